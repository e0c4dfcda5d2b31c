# Generates argon2id reference hashes in PHC format with the C reference
# implementation (libargon2, through ctypes), independently of the Go code
# under test. Run from this directory:
#
#     python3 argon2_vectors.py > argon2_vectors.json
import ctypes, ctypes.util, json, unicodedata

lib = ctypes.CDLL(ctypes.util.find_library("argon2") or "libargon2.so.1")
lib.argon2id_hash_encoded.argtypes = [
    ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32,
    ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
    ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
]

def encoded(password, salt, t, m, p, keylen):
    out = ctypes.create_string_buffer(512)
    rc = lib.argon2id_hash_encoded(t, m, p, password, len(password), salt, len(salt), keylen, out, len(out))
    assert rc == 0, rc
    return out.value.decode()

vectors = []
for note, password, salt, t, m, p, keylen in [
    ("OWASP parameters (the default)", "correct horse battery staple", b"0123456789abcdef", 2, 19456, 1, 32),
    ("small parameters, NFKC-changed password", "ｐａｓｓ\u2460\ufb01e\u0301", b"saltsaltsalt", 1, 64, 2, 16),
]:
    # Argon2id hashes the NFKC form of the password.
    nfkc = unicodedata.normalize("NFKC", password)
    vectors.append({
        "note": note, "password": password, "nfkc": nfkc,
        "hash": encoded(nfkc.encode(), salt, t, m, p, keylen),
    })
print(json.dumps({"generator": "libargon2 (C reference implementation) via ctypes", "vectors": vectors}, indent="\t", ensure_ascii=False))
