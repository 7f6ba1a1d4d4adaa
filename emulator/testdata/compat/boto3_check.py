"""Drive a KMS endpoint through boto3 and print what each call returned.

Usage: boto3_check.py OWNER_ACCOUNT OTHER_ACCOUNT

The endpoint comes from AWS_ENDPOINT_URL. The caller account is the access
key id (a 12-digit account id). The script makes every call of the sequence
even when one fails and prints one JSON object mapping step name to
{"ok": true, "value": ...} or {"ok": false, "code": ..., "message": ...,
"status": ...}. The Go test (compat_test.go) decides what is right.
"""

import base64
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

OWNER, OTHER = sys.argv[1], sys.argv[2]
REGION = "us-east-1"
PLAINTEXT = b"kmsload compat plaintext \x00\x01\xff"
MESSAGE = b"kmsload compat message"
CONTEXT = {"purpose": "compat", "tenant": "t1"}
WRONG_CONTEXT = {"purpose": "compat", "tenant": "t2"}
ALIAS = "alias/compat-sym"

CFG = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=20)


def client(account):
    return boto3.client(
        "kms",
        aws_access_key_id=account,
        aws_secret_access_key="x",
        region_name=REGION,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        config=CFG,
    )


def b64(b):
    return base64.b64encode(b).decode()


results = {}


def step(name, fn):
    """Run fn, record its value or the KMS error code under name."""
    try:
        results[name] = {"ok": True, "value": fn()}
    except ClientError as e:
        err = e.response.get("Error", {})
        results[name] = {
            "ok": False,
            "code": err.get("Code", ""),
            "message": err.get("Message", ""),
            "status": e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0),
        }
    except Exception as e:  # a client-side failure is a result too
        results[name] = {"ok": False, "code": "python:" + type(e).__name__, "message": str(e)}
    r = results[name]
    return r["value"] if r["ok"] else None


def meta(resp):
    m = resp["KeyMetadata"]
    return {k: m.get(k) for k in ("KeyId", "Arn", "KeyState", "KeySpec", "KeyUsage", "AWSAccountId", "Enabled")}


A, B = client(OWNER), client(OTHER)
state = {}

# Symmetric key, alias, round trips.
key = step("create_key", lambda: meta(A.create_key(Description="compat symmetric")))
key_id = key["KeyId"] if key else "missing"
key_arn = key["Arn"] if key else "missing"
step("create_alias", lambda: A.create_alias(AliasName=ALIAS, TargetKeyId=key_id) and {})
step("describe_alias", lambda: meta(A.describe_key(KeyId=ALIAS)))


def encrypt(name, c, **kw):
    def f():
        r = c.encrypt(Plaintext=PLAINTEXT, **kw)
        state[name] = r["CiphertextBlob"]
        return {"KeyId": r["KeyId"], "CiphertextBlob": b64(r["CiphertextBlob"])}

    return step(name, f)


def decrypt(name, c, blob_name, **kw):
    def f():
        r = c.decrypt(CiphertextBlob=state.get(blob_name, b"missing"), **kw)
        return {"KeyId": r["KeyId"], "Plaintext": b64(r["Plaintext"])}

    return step(name, f)


encrypt("encrypt", A, KeyId=ALIAS)
decrypt("decrypt", A, "encrypt")
encrypt("encrypt_ctx", A, KeyId=key_id, EncryptionContext=CONTEXT)
decrypt("decrypt_ctx", A, "encrypt_ctx", EncryptionContext=CONTEXT)
decrypt("decrypt_ctx_wrong", A, "encrypt_ctx", EncryptionContext=WRONG_CONTEXT)
decrypt("decrypt_ctx_missing", A, "encrypt_ctx")


def gdk():
    r = A.generate_data_key(KeyId=key_arn, KeySpec="AES_256")
    state["gdk"] = r["CiphertextBlob"]
    return {"KeyId": r["KeyId"], "Plaintext": b64(r["Plaintext"])}


step("generate_data_key", gdk)
decrypt("decrypt_data_key", A, "gdk")

# Asymmetric signing key.
sk = step("create_sign_key", lambda: meta(A.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")))
sk_id = sk["KeyId"] if sk else "missing"


def get_public_key():
    r = A.get_public_key(KeyId=sk_id)
    return {"KeySpec": r.get("KeySpec"), "PublicKey": b64(r["PublicKey"]), "SigningAlgorithms": r.get("SigningAlgorithms")}


step("get_public_key", get_public_key)


def sign():
    r = A.sign(KeyId=sk_id, Message=MESSAGE, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_256")
    state["sig"] = r["Signature"]
    return {"KeyId": r["KeyId"], "Signature": b64(r["Signature"]), "Message": b64(MESSAGE)}


step("sign", sign)
step("verify", lambda: {"SignatureValid": A.verify(KeyId=sk_id, Message=MESSAGE, MessageType="RAW",
                                                    Signature=state.get("sig", b"x"),
                                                    SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]})
step("verify_tampered", lambda: {"SignatureValid": A.verify(KeyId=sk_id, Message=MESSAGE + b"!", MessageType="RAW",
                                                             Signature=state.get("sig", b"x"),
                                                             SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]})

# HMAC key.
mk = step("create_mac_key", lambda: meta(A.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")))
mk_id = mk["KeyId"] if mk else "missing"


def generate_mac():
    r = A.generate_mac(KeyId=mk_id, Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    state["mac"] = r["Mac"]
    return {"KeyId": r["KeyId"], "Mac": b64(r["Mac"])}


step("generate_mac", generate_mac)
step("verify_mac", lambda: {"MacValid": A.verify_mac(KeyId=mk_id, Message=MESSAGE, Mac=state.get("mac", b"x"),
                                                      MacAlgorithm="HMAC_SHA_256")["MacValid"]})
step("verify_mac_tampered", lambda: {"MacValid": A.verify_mac(KeyId=mk_id, Message=MESSAGE + b"!",
                                                               Mac=state.get("mac", b"x"),
                                                               MacAlgorithm="HMAC_SHA_256")["MacValid"]})

# Key states.
dk = step("create_disabled_key", lambda: meta(A.create_key()))
dk_id = dk["KeyId"] if dk else "missing"
step("disable_key", lambda: A.disable_key(KeyId=dk_id) and {})
encrypt("encrypt_disabled", A, KeyId=dk_id)

pk = step("create_pending_key", lambda: meta(A.create_key()))
pk_id = pk["KeyId"] if pk else "missing"
encrypt("encrypt_before_deletion", A, KeyId=pk_id)
step("schedule_key_deletion", lambda: {"KeyState": A.schedule_key_deletion(KeyId=pk_id, PendingWindowInDays=7).get("KeyState")})
encrypt("encrypt_pending_deletion", A, KeyId=pk_id)
decrypt("decrypt_pending_deletion", A, "encrypt_before_deletion")

# Unknown key.
unknown_arn = "arn:aws:kms:%s:%s:key/00000000-0000-4000-8000-000000000000" % (REGION, OWNER)
encrypt("encrypt_unknown_key", A, KeyId=unknown_arn)
step("describe_unknown_key", lambda: meta(A.describe_key(KeyId="00000000-0000-4000-8000-000000000000")))

# Cross-account: the default policy trusts only the owner account.
encrypt("cross_encrypt_denied", B, KeyId=key_arn)
decrypt("cross_decrypt_denied", B, "encrypt")
encrypt("cross_alias_name", B, KeyId=ALIAS)

policy = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Owner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % OWNER},
         "Action": "kms:*", "Resource": "*"},
        {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % OTHER},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"},
    ],
}
step("put_key_policy", lambda: A.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(policy)) and {})
encrypt("cross_encrypt_arn", B, KeyId=key_arn)
decrypt("cross_decrypt", B, "encrypt")
encrypt("cross_encrypt_alias_arn", B, KeyId="arn:aws:kms:%s:%s:%s" % (REGION, OWNER, ALIAS))
encrypt("cross_encrypt_bare_id", B, KeyId=key_id)
step("cross_generate_data_key_without_plaintext",
     lambda: {"KeyId": B.generate_data_key_without_plaintext(KeyId=key_arn, NumberOfBytes=16)["KeyId"]})
step("cross_describe_key_denied", lambda: meta(B.describe_key(KeyId=key_arn)))

conditional = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": OWNER}, "Action": "kms:*", "Resource": "*",
                   "Condition": {"StringEquals": {"kms:CallerAccount": OWNER}}}],
}
step("put_key_policy_condition", lambda: A.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(conditional)) and {})

json.dump(results, sys.stdout, indent=1, sort_keys=True)
print()
