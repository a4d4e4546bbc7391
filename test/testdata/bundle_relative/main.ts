// A stand-in program that reads a file beside its module: the bundler must refuse it.
console.log(await Deno.readTextFile(new URL("./data.txt", import.meta.url)));
