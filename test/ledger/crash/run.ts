// `npm run crash [-- --kills N]`: the long crash run (default 1,000 SIGKILLs). Exit code 1 on any problem.
import { runCrashHarness } from './harness.ts';

const i = process.argv.lastIndexOf('--kills'); // the last one wins: `npm run crash -- --kills 300`
const kills = i >= 0 ? Number(process.argv[i + 1]) : 1000;
const r = await runCrashHarness({
  kills,
  onProgress: (done, res) => {
    if (done % 50 === 0) console.log(`${done}/${kills} kills, ${res.records} records, ${res.acked} acknowledged, problems ${res.problems.length}`);
  },
});
console.log(JSON.stringify({ ...r, problems: r.problems.slice(0, 20) }, null, 2));
process.exitCode = r.problems.length === 0 && r.kills === kills ? 0 : 1;
