// How values read on screen.

const UNITS = new Intl.NumberFormat('en-US', { maximumFractionDigits: 6 });

// `IN_REVIEW` or `in_review` → `In review`.
export function label(value) {
  if (!value) return '';
  const text = String(value).toLowerCase().replaceAll('_', ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// A quantity or count with thousands separators (exact decimals kept as they came).
export function units(value) {
  if (value == null || value === '') return '';
  const text = String(value);
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text;
  const [whole, fraction] = text.split('.');
  const grouped = UNITS.format(BigInt(whole));
  return fraction ? `${grouped}.${fraction}` : grouped;
}

// `2026-12-07 16:40 UTC`.
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// `3 h 5 min` from seconds.
export function duration(seconds) {
  if (seconds == null) return '';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

// Time until (positive) or since (negative) an instant, in words.
export function relative(iso) {
  if (!iso) return '';
  const seconds = (new Date(iso).getTime() - Date.now()) / 1000;
  return seconds >= 0 ? `in ${duration(seconds)}` : `${duration(-seconds)} ago`;
}
