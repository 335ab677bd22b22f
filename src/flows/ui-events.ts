// What a screen may send into a flow: the schemas live with the API (src/api/flows.ts), the one source.
export { FLOW_KINDS, FlowKind, PersonDraftSchema, SessionUiEvent, UiEvent } from '../api/flows.ts';
