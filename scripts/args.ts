/** `list q --max 5 --prefix=x` → positional `[list, q]`, flags `{max: '5', prefix: 'x'}`. */
export function parseArgs(argv: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      flags[k] = v ?? argv[++i] ?? '';
    } else positional.push(a);
  }
  return { positional, flags };
}
