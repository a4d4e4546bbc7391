import assert from "node:assert/strict";
import { allowedHosts, isLoopback, parseListen } from "./security.ts";

Deno.test("parseListen() reads HOST:PORT, [v6]:PORT and a bare port, and names what is wrong", () => {
  assert.deepEqual(parseListen("127.0.0.1:8470"), { hostname: "127.0.0.1", port: 8470 });
  assert.deepEqual(parseListen("[::1]:9000"), { hostname: "::1", port: 9000 });
  assert.deepEqual(parseListen("8470"), { hostname: "127.0.0.1", port: 8470 });
  assert.deepEqual(parseListen(":0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseListen("0.0.0.0:80"), { hostname: "0.0.0.0", port: 80 });
  assert.throws(() => parseListen("localhost"), /expected HOST:PORT/);
  assert.throws(() => parseListen("::1:80"), /IPv6 addresses as \[ADDR\]:PORT/);
  assert.throws(() => parseListen("127.0.0.1:99999"), /port must be 0-65535, got 99999/);
});

Deno.test("isLoopback() accepts 127/8, ::1 and localhost only", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"]) {
    assert.ok(isLoopback(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "localhost.evil.example", "example.org"]) {
    assert.ok(!isLoopback(h), h);
  }
});

Deno.test("allowedHosts() of a loopback bind: the loopback names with the port, nothing else", () => {
  const hosts = allowedHosts({ hostname: "127.0.0.1", port: 8470 }, "myhost");
  assert.deepEqual([...hosts].sort(), ["127.0.0.1:8470", "[::1]:8470", "localhost:8470"]);
});

Deno.test("allowedHosts() of a wildcard bind adds the machine's name and addresses; port 80 may be omitted", () => {
  const hosts = allowedHosts({ hostname: "0.0.0.0", port: 80 }, "MyHost");
  for (const h of ["myhost", "myhost:80", "127.0.0.1", "localhost:80"]) assert.ok(hosts.has(h), h);
  assert.ok(!hosts.has("evil.example"));
  const lan = allowedHosts({ hostname: "192.0.2.7", port: 8470 }, "myhost");
  assert.deepEqual([...lan].sort(), ["192.0.2.7:8470", "myhost:8470"]);
});
