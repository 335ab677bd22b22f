// Arabic messages (the default language; right to left).
import type { Messages } from './en.ts';

export const ar: Messages = {
  app: { title: 'بالم باي', tagline: 'الدفع بأوردة الكف' },
  language: { self: 'العربية', label: 'اللغة' },
  digits: { label: 'الأرقام', arab: '١٢٣', latn: '123' },
  home: { heading: 'اختر المهمة' },
  role: {
    salary: { title: 'صرف الراتب', hint: 'دفع راتب موظف' },
    purchase: { title: 'شراء', hint: 'استلام دفعة في متجر' },
    enrolment: { title: 'تسجيل', hint: 'تسجيل شخص جديد' },
  },
  screen: { notYet: 'هذه الشاشة لم تُبنَ بعد.', back: 'العودة إلى الشاشة الرئيسية' },
  status: {
    label: 'حالة الجهاز',
    scanner: 'الماسح',
    link: 'الاتصال',
    queue: 'قائمة الانتظار',
    scannerState: { disconnected: 'غير متصل', connecting: 'جارٍ الاتصال', ready: 'جاهز', busy: 'بانتظار يد', error: 'عطل' },
    scannerKind: { simulated: 'محاكى', serial: 'وحدة تسلسلية', hid: 'ماسح USB' },
    scannerModule: { 'table-full': 'جدول الوحدة ممتلئ: بعض الأكفّ ليست فيه', 'feature-refused': 'رُفضت بصمة كفّ', 'sync-failed': 'مستخدمو الوحدة غير متزامنين' },
    palms: 'الأكفّ المسجّلة',
    palmsState: { waiting: 'بانتظار التحميل', loading: 'جارٍ التحميل {{pct}}٪', ready: 'جاهزة: {{n}}', error: 'لم تُحمَّل: لا تُقرأ الأكفّ' },
    printer: 'الطابعة',
    printerLog: 'ملف فقط',
    printerState: { ready: 'جاهزة', 'paper-out': 'نفد الورق', 'cover-open': 'الغطاء مفتوح', offline: 'غير متصلة', unreachable: 'لا تستجيب', error: 'عطل', unknown: 'جارٍ الفحص' },
    linkState: { up: 'متصل', down: 'غير متصل', unknown: 'غير معروف' },
    inProcess: 'خادم مرجعي محلي',
    noCentre: 'لا مركز: الجهاز غير مُعدّ',
    insecure: 'http غير مشفّر',
    placeholder: 'مؤقت',
    host: { connecting: 'جارٍ الاتصال بالجهاز…', lost: 'الجهاز لا يستجيب. إعادة المحاولة…' },
  },
  sim: { title: 'ماسح محاكى (عرض تجريبي)', who: 'كفّ', lay: 'ضع هذه الكف' },
  placeholders: {
    badge: 'أجزاء تجريبية: {{n}}',
    heading: 'أجزاء مؤقتة (ليست حقيقية بعد):',
    scanner: 'ماسح محاكى',
    server: 'خادم مرجعي داخل العملية',
    queue: 'قائمة الإرسال',
    printer: 'لا طابعة إيصالات (الإيصالات إلى ملف، والدرج محاكى)',
  },
};
