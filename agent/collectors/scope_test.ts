import assert from "node:assert/strict";
import { prefixRange, scopeTest } from "./scope.ts";

Deno.test("scopeTest() has the keys named and every key under a prefix; reaches() says where they lie", () => {
  const s = scopeTest({ keys: ["/etc/hosts", "/etc"], prefixes: ["/srv/www/", "/srv/www/a/", "/opt/x/"] });
  for (const k of ["/etc/hosts", "/etc", "/srv/www/a", "/srv/www/b/c", "/opt/x/y"]) assert.ok(s.has(k), k);
  for (const k of ["/etc/passwd", "/etc/hosts2", "/srv/www", "/srv/wwwx/a", "/opt/xy", "/"]) {
    assert.ok(!s.has(k), k);
  }
  for (const p of ["/", "/etc/", "/srv/", "/srv/www/", "/srv/www/a/b/"]) assert.ok(s.reaches(p), p);
  for (const p of ["/etc/hosts/", "/usr/", "/srv/w/"]) assert.ok(!s.reaches(p), p);
});

Deno.test("scopeTest() answers like a linear scan for random keys and prefixes", () => {
  const words = ["a", "b", "ab", "a/", "b/", "a/b", "a/b/", "", "/"];
  const pick = () =>
    words[Math.floor(Math.random() * words.length)] + words[Math.floor(Math.random() * words.length)];
  for (let round = 0; round < 200; round++) {
    const keys = Array.from({ length: 3 }, pick);
    const prefixes = Array.from({ length: 3 }, pick).filter(Boolean);
    const s = scopeTest({ keys, prefixes });
    for (let i = 0; i < 30; i++) {
      const k = pick();
      assert.equal(
        s.has(k),
        keys.includes(k) || prefixes.some((p) => k.startsWith(p)),
        `${k} in ${keys}|${prefixes}`,
      );
    }
  }
});

Deno.test("prefixRange() bounds exactly the keys starting with the prefix", () => {
  assert.deepEqual(prefixRange("/etc/"), ["/etc/", "/etc0"]);
  assert.deepEqual(prefixRange("dpkg:"), ["dpkg:", "dpkg;"]);
  assert.throws(() => prefixRange("/é"), RangeError);
});
