// Generates reference hashes in Lucia v1's two scrypt formats with Node's own
// scrypt, independently of the Go code under test. Run from this directory:
//
//	node scrypt_vectors.js > scrypt_vectors.json
//
// "s2:<salt>:<hex>": scrypt(NFKC(password), salt, N=16384, r=16, p=1, 64 bytes)
// "<salt>:<hex>":    scrypt(password, salt, N=16384, r=8, p=1, 64 bytes), the
//                    password as typed (the older format did not normalize).
// Password and salt enter scrypt as their UTF-8 bytes.
"use strict";
const crypto = require("node:crypto");

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ1234567890";
function salt() {
	let s = "";
	while (s.length < 16) {
		const b = crypto.randomBytes(1)[0];
		if (b < 248) s += alphabet[b % 62];
	}
	return s;
}

function scryptHex(password, salt, r) {
	const key = crypto.scryptSync(Buffer.from(password, "utf8"), Buffer.from(salt, "utf8"), 64, {
		N: 16384, r, p: 1, maxmem: 64 * 1024 * 1024,
	});
	return key.toString("hex");
}

const passwords = [
	{ note: "ASCII", password: "correct horse battery staple" },
	// Fullwidth letters, a circled digit, the "fi" ligature and a decomposed
	// "é" (e + U+0301): NFKC turns them into "pass1fié".
	{ note: "non-ASCII, changed by NFKC", password: "ｐａｓｓ\u2460\ufb01e\u0301" },
	{ note: "non-ASCII, already NFKC", password: "пароль-密码" },
];

const vectors = [];
for (const { note, password } of passwords) {
	const nfkc = password.normalize("NFKC");
	const s2 = salt();
	vectors.push({
		format: "s2", note, password, nfkc, changedByNFKC: nfkc !== password,
		hash: `s2:${s2}:${scryptHex(nfkc, s2, 16)}`,
	});
	const legacy = salt();
	vectors.push({
		format: "legacy", note, password, nfkc, changedByNFKC: nfkc !== password,
		hash: `${legacy}:${scryptHex(password, legacy, 8)}`,
	});
}
process.stdout.write(JSON.stringify({ generator: "node " + process.version + " crypto.scryptSync", vectors }, null, "\t") + "\n");
