// page.js is the browser's script, not a module of this service: assets.ts imports its text.
declare const text: string;
export default text;
