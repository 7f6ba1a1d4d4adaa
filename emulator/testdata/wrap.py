"""Wraps key material for ImportKeyMaterial as AWS's importing guide says,
with the cryptography package (an implementation independent of the
emulator's): stdin is JSON {"public_key": base64 DER, "algorithm":
WrappingAlgorithm, "material": base64}; stdout the base64 wrapped material."""
import base64, json, os, sys

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import padding

req = json.load(sys.stdin)
pub = serialization.load_der_public_key(base64.b64decode(req["public_key"]))
alg = req["algorithm"]
material = base64.b64decode(req["material"])
h = hashes.SHA1() if alg.endswith("SHA_1") else hashes.SHA256()
oaep = padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)
if alg.startswith("RSAES_OAEP"):
    out = pub.encrypt(material, oaep)
else:
    kek = os.urandom(32)
    out = pub.encrypt(kek, oaep) + keywrap.aes_key_wrap_with_padding(kek, material)
print(base64.b64encode(out).decode())
