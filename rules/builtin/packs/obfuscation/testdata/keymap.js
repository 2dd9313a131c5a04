// Keyboard shortcuts for the console: map key codes to printable names.
const KEYS = [8, 9, 13, 27, 32, 33, 34, 35, 36, 37, 38, 39, 40, 45, 46, 112, 113, 114];
export function keyName(code) {
  if (code >= 48 && code <= 90) return String.fromCharCode(code);
  const names = {8: 'Backspace', 9: 'Tab', 13: 'Enter', 27: 'Escape', 32: 'Space'};
  return names[code] || `Key${code}`;
}
export const HEADER = String.fromCharCode(65, 67, 77, 69, 32, 67, 111, 110, 115, 111, 108, 101, 32, 118, 51, 46, 50);
export function parseConfig(text) { return JSON.parse(text); }
