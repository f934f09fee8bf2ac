// Generates test/diff/cases/hyperloglog.txt from scripts/hll-cases-template.txt:
//   node scripts/gen-hll-cases.mjs scripts/hll-cases-template.txt test/diff/cases/hyperloglog.txt
const lines = [];
const seq = (from, to, f) => { const a = []; for (let i = from; i <= to; i++) a.push(f(i)); return a; };
// 1000 readable elements, 100 per line.
for (let l = 0; l < 10; l++) lines.push('PFADD h1000 ' + seq(l * 100 + 1, l * 100 + 100, (i) => 'ele:' + i).join(' '));
const out1000 = lines.splice(0).join('\n');
// 100,000 short tokens: i in base 92 over printable ASCII without quotes, 1000 per line.
const ALPHA = [];
for (let c = 33; c < 127; c++) if (c !== 34 && c !== 39) ALPHA.push(String.fromCharCode(c));
const tok = (i) => { let s = ''; do { s = ALPHA[i % 92] + s; i = Math.floor(i / 92); } while (i > 0); return s; };
for (let l = 0; l < 100; l++) lines.push('PFADD h100k ' + seq(l * 1000, l * 1000 + 999, tok).join(' '));
const out100k = lines.splice(0).join('\n');
const fs = await import('node:fs');
const tpl = fs.readFileSync(process.argv[2], 'utf8');
fs.writeFileSync(process.argv[3], tpl.replace('@@H1000@@', () => out1000).replace('@@H100K@@', () => out100k));
