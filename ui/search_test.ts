import assert from "node:assert/strict";
import { keyPattern, pathGlob } from "./search.ts";

const matches = (text: string, keys: string[], os: "linux" | "windows" = "linux") => {
  const p = keyPattern(text, os);
  assert.ok(p, text);
  return keys.filter((k) => p.test(k));
};

const KEYS = [
  "/etc/app.conf",
  "/etc/nginx/conf.d/site.conf",
  "/etc/nginx/nginx.conf",
  "/etc/hosts",
  "/srv/x.conf",
];

Deno.test("keyPattern(): plain words are no pattern; globs stay within folders, ** crosses them", () => {
  assert.equal(keyPattern("nginx conf", "linux"), null);
  assert.equal(keyPattern("[x]", "linux"), null);
  assert.deepEqual(matches("/etc/*.conf", KEYS), ["/etc/app.conf"]);
  assert.deepEqual(matches("/etc/**/*.conf", KEYS), [
    "/etc/app.conf",
    "/etc/nginx/conf.d/site.conf",
    "/etc/nginx/nginx.conf",
  ]);
  assert.deepEqual(matches("/etc/nginx/**", KEYS), ["/etc/nginx/conf.d/site.conf", "/etc/nginx/nginx.conf"]);
  // No leading separator: from any folder on.
  assert.deepEqual(matches("*.conf", KEYS), KEYS.filter((k) => k.endsWith(".conf")));
  assert.deepEqual(matches("nginx/*.conf", KEYS), ["/etc/nginx/nginx.conf"]);
  assert.deepEqual(matches("/etc/ho?ts", KEYS), ["/etc/hosts"]);
  assert.deepEqual(matches("/etc/[!h]*", KEYS), ["/etc/app.conf"]);
  // Regex characters in a glob are literal.
  assert.deepEqual(matches("/a+b(c)/*", ["/a+b(c)/x", "/aab(c)/x", "/a+bc/x"]), ["/a+b(c)/x"]);
  assert.equal(pathGlob("/etc/*.conf", "linux"), "\\/etc\\/[^/]*\\.conf");
});

Deno.test("keyPattern(): re: is a regex found anywhere in the key, anchored by ^ and $", () => {
  assert.deepEqual(matches("re:nginx\\.conf$", KEYS), ["/etc/nginx/nginx.conf"]);
  assert.deepEqual(matches("re:^/etc/[a-z]+\\.conf$", KEYS), ["/etc/app.conf"]);
  assert.deepEqual(matches("re:conf\\.d|hosts", KEYS), ["/etc/nginx/conf.d/site.conf", "/etc/hosts"]);
});

Deno.test("keyPattern(): Windows globs take either separator and any case; registry keys too", () => {
  const keys = [
    "C:\\Windows\\System32\\drivers\\etc\\hosts",
    "C:\\Windows\\win.ini",
    "HKEY_LOCAL_MACHINE\\SOFTWARE\\X\\\\V",
  ];
  assert.deepEqual(matches("c:/windows/**/HOSTS", keys, "windows"), [keys[0]]);
  assert.deepEqual(matches("*.INI", keys, "windows"), [keys[1]]);
  assert.deepEqual(matches("HKEY_LOCAL_MACHINE\\SOFTWARE\\**", keys, "windows"), [keys[2]]);
});

Deno.test("keyPattern(): what needs backtracking is refused, saying what and where; long names stay linear", () => {
  assert.throws(
    () => keyPattern("re:(a)\\1", "linux"),
    /search "re:\(a\)\\\\1": backreference .* not supported.*character 4/,
  );
  assert.throws(() => keyPattern("re:(?=x)", "linux"), RangeError);
  assert.throws(() => keyPattern("re:", "linux"), /empty/);
  // The catastrophic case for a backtracking engine: (a+)+$ against a long run of a's and one b.
  const p = keyPattern("re:^(a+)+$", "linux")!;
  const t0 = performance.now();
  assert.equal(p.test("a".repeat(100_000) + "b"), false);
  assert.ok(performance.now() - t0 < 5_000);
});
