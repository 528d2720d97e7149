// Step modules for the tests' real step pools.
export function writeText({ text }) {
  return text;
}

export function allocateThenWrite({ mb }) {
  const slots = new Array(Math.floor((mb * 1024 * 1024) / 8)).fill(0);
  return `held ${slots.length * 8} bytes`;
}

export function failCoded() {
  const error = new Error("the model refused");
  error.code = "E_REFUSED";
  throw error;
}
