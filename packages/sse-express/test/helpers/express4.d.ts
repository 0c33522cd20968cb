// `express4` is an npm alias of express@4 (no bundled types); its API used in the tests is the
// same as Express 5's, so borrow those types.
declare module 'express4' {
  import express from 'express';
  export default express;
}
