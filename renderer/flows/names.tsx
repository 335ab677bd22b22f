// Names in the script of the screen: Arabic screens show the Arabic form first, Kurmanji and English screens the
// Latin form; the other form stays beside it, smaller (both are on the ID card). Phone numbers stay left to right.
import { useTranslation } from 'react-i18next';

export interface Names {
  ar: string;
  latin: string;
}

/** The form of a name that matches the screen's script (Arabic screens: Arabic; Kurmanji, English: Latin). */
export function useNameInScript(): (n: Names) => string {
  const { i18n } = useTranslation();
  const arabic = i18n.language === 'ar';
  return (n) => (arabic ? n.ar || n.latin : n.latin || n.ar);
}

export function PersonName({ nameAr, nameLatin, className }: { nameAr: string; nameLatin: string; className?: string }) {
  const { i18n } = useTranslation();
  const ar = (
    <p className="name-ar" lang="ar" dir="rtl" key="ar">
      {nameAr}
    </p>
  );
  const latin = (
    <p className="name-latin" lang="ku-Latn" dir="ltr" key="latin">
      {nameLatin}
    </p>
  );
  return <div className={className} data-script={i18n.language === 'ar' ? 'ar' : 'latin'}>{i18n.language === 'ar' ? [ar, latin] : [latin, ar]}</div>;
}

/** A phone number, kept left to right inside right-to-left text ("+963 944 …", not "963 944 …+"). */
export function Phone({ value }: { value: string }) {
  return (
    <bdi dir="ltr" className="phone">
      {value}
    </bdi>
  );
}
