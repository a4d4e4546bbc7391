// ReDoS patterns and the names that trigger them, for the pattern engine's tests and the files end-to-end test.

/** Patterns that take a backtracking engine exponential (or high polynomial) time on the right names. */
export function redosPatterns(): string[] {
  const out = [
    "(a+)+$",
    "(a|aa)*$",
    "(.*a){20}",
    "(a*)*b",
    "(a|a)*b",
    "(a|a?)+b",
    "(a?){25}a{25}",
    "(\\w+\\s?)*$",
    "([a-z]+)*$",
    "(a+)+b",
    "((a+)+)+c",
    "(.*)*x",
    "(.+)+\\.conf",
    "(\\d+)*[a-z]",
    "^(([a-z])+.)+[A-Z]([a-z])+$",
    "(x+x+)+y",
    "(.*,)*z",
    "([^!]+)*!!",
    "(a|b|ab)*c",
    "(\\w|\\d)+!",
  ];
  // And families: nested quantifiers and overlapping alternations around each of a few atoms.
  for (const atom of ["a", ".", "[a-z]", "\\w", "[^!]", "(?:a|a)", "(?:aa|a)"]) {
    for (
      const [inner, outer] of [["+", "+"], ["*", "*"], ["+", "*"], ["*", "+"], ["{1,5}", "+"], ["+", "{2,9}"]]
    ) {
      for (const tail of ["$", "!", "b", "\\.x", ""]) out.push(`(${atom}${inner})${outer}${tail}`);
    }
    out.push(`(${atom}|${atom}${atom})*$`, `(.*${atom}){12}`, `(${atom}?){20}${atom}{20}`);
  }
  return out;
}

/** Names of `n` characters (and a few more) that make a backtracking engine try every split of the a's. */
export function triggerNames(n: number): string[] {
  return ["a".repeat(n) + "!", "a".repeat(n), "a".repeat(n) + "\u{1F600}", "ab".repeat(n / 2) + "c"];
}
