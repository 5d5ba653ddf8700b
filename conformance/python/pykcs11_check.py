"""PyKCS11 (the python wrapper most Python PKCS#11 users have) against the
module: login, key generation, signatures with recovery-free and hashing
mechanisms, OAEP and PKCS#1 v1.5 decryption, AES, digests, random, find and
attribute reads, checked against the standard library where it can compute
the same answer.

Run: python3 pykcs11_check.py MODULE TOKEN_LABEL PIN
Prints "ok   - NAME" or "FAIL - NAME: reason" per check (conformance/lib.sh's
format) and exits 1 if any failed.
"""

import hashlib
import hmac
import sys

import PyKCS11
from PyKCS11 import LowLevel as LL

FAILED = 0


def check(name, fn):
    global FAILED
    try:
        fn()
        print("ok   - " + name)
    except Exception as e:  # report every failure the same way
        FAILED += 1
        print("FAIL - %s: %r" % (name, e))


def main():
    module, label, pin = sys.argv[1:4]
    lib = PyKCS11.PyKCS11Lib()
    lib.load(module)
    slot = next(s for s in lib.getSlotList(tokenPresent=True)
                if lib.getTokenInfo(s).label.strip() == label)
    session = lib.openSession(slot, PyKCS11.CKF_SERIAL_SESSION | PyKCS11.CKF_RW_SESSION)
    session.login(pin)
    msg = b"signed in the token, checked by python"
    keys = {}

    def rsa_pair():
        pub, priv = session.generateKeyPair(
            [(PyKCS11.CKA_MODULUS_BITS, 2048), (PyKCS11.CKA_PUBLIC_EXPONENT, (1, 0, 1)),
             (PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_VERIFY, True), (PyKCS11.CKA_ENCRYPT, True),
             (PyKCS11.CKA_LABEL, "py-rsa")],
            [(PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SENSITIVE, True),
             (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_DECRYPT, True), (PyKCS11.CKA_LABEL, "py-rsa")],
            mecha=PyKCS11.MechanismRSAGENERATEKEYPAIR)
        keys["rsa"] = (pub, priv)
        n = bytes(session.getAttributeValue(pub, [PyKCS11.CKA_MODULUS])[0])
        assert len(n) == 256, len(n)
        sensitive = session.getAttributeValue(priv, [PyKCS11.CKA_SENSITIVE])[0]
        assert sensitive, "private key sensitive"

    check("RSA-2048 key pair generated", rsa_pair)

    def rsa_sign(mech_type):
        def run():
            pub, priv = keys["rsa"]
            sig = bytes(session.sign(priv, msg, PyKCS11.Mechanism(mech_type, None)))
            assert len(sig) == 256
            assert session.verify(pub, msg, sig, PyKCS11.Mechanism(mech_type, None))
            assert not session.verify(pub, msg + b"!", sig, PyKCS11.Mechanism(mech_type, None))
            # Check with plain integers: s^e mod n is the PKCS#1 v1.5 encoding.
            if mech_type == PyKCS11.CKM_SHA256_RSA_PKCS:
                n = int.from_bytes(bytes(session.getAttributeValue(pub, [PyKCS11.CKA_MODULUS])[0]), "big")
                em = pow(int.from_bytes(sig, "big"), 65537, n).to_bytes(256, "big")
                prefix = bytes.fromhex("3031300d060960864801650304020105000420")
                assert em.endswith(prefix + hashlib.sha256(msg).digest()), "DigestInfo"
                assert em.startswith(b"\x00\x01\xff"), "type 1 padding"
        return run

    for name, mech in [("SHA256_RSA_PKCS", PyKCS11.CKM_SHA256_RSA_PKCS),
                       ("SHA384_RSA_PKCS", PyKCS11.CKM_SHA384_RSA_PKCS),
                       ("SHA1_RSA_PKCS", PyKCS11.CKM_SHA1_RSA_PKCS)]:
        check("CKM_%s signs and verifies (checked with pow())" % name, rsa_sign(mech))

    def pss():
        pub, priv = keys["rsa"]
        m = PyKCS11.RSA_PSS_Mechanism(PyKCS11.CKM_SHA256_RSA_PKCS_PSS, PyKCS11.CKM_SHA256,
                                      PyKCS11.CKG_MGF1_SHA256, 32)
        sig = bytes(session.sign(priv, msg, m))
        assert session.verify(pub, msg, sig, m)

    check("CKM_SHA256_RSA_PKCS_PSS signs and verifies", pss)

    def oaep():
        pub, priv = keys["rsa"]
        # SHA-1: what SoftHSMv2 also offers, so the script runs against both.
        m = PyKCS11.RSAOAEPMechanism(PyKCS11.CKM_SHA_1, PyKCS11.CKG_MGF1_SHA1)
        ct = bytes(session.encrypt(pub, b"key material", m))
        assert bytes(session.decrypt(priv, ct, m)) == b"key material"

    check("CKM_RSA_PKCS_OAEP encrypts and decrypts", oaep)

    def pkcs1_decrypt():
        pub, priv = keys["rsa"]
        m = PyKCS11.Mechanism(PyKCS11.CKM_RSA_PKCS, None)
        ct = bytes(session.encrypt(pub, b"legacy", m))
        assert bytes(session.decrypt(priv, ct, m)) == b"legacy"

    check("CKM_RSA_PKCS encrypts and decrypts", pkcs1_decrypt)

    def ec():
        params = bytes.fromhex("06082a8648ce3d030107")  # prime256v1
        pub, priv = session.generateKeyPair(
            [(PyKCS11.CKA_EC_PARAMS, params), (PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_VERIFY, True)],
            [(PyKCS11.CKA_TOKEN, False), (PyKCS11.CKA_PRIVATE, True), (PyKCS11.CKA_SIGN, True)],
            mecha=PyKCS11.MechanismECGENERATEKEYPAIR)
        m = PyKCS11.Mechanism(PyKCS11.CKM_ECDSA, None)
        digest = hashlib.sha256(msg).digest()
        sig = bytes(session.sign(priv, digest, m))
        assert len(sig) == 64
        assert session.verify(pub, digest, sig, m)
        point = bytes(session.getAttributeValue(pub, [PyKCS11.CKA_EC_POINT])[0])
        assert point[0] == 0x04 and point[2] == 0x04 and len(point) == 67, "DER OCTET STRING"

    check("P-256 key pair, CKM_ECDSA signs and verifies, CKA_EC_POINT as DER", ec)

    def aes():
        key = session.generateKey([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
                                   (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_AES),
                                   (PyKCS11.CKA_VALUE_LEN, 32), (PyKCS11.CKA_TOKEN, False),
                                   (PyKCS11.CKA_ENCRYPT, True), (PyKCS11.CKA_DECRYPT, True)],
                                  PyKCS11.Mechanism(PyKCS11.CKM_AES_KEY_GEN, None))
        iv = bytes(16)
        m = PyKCS11.Mechanism(PyKCS11.CKM_AES_CBC_PAD, iv)
        ct = bytes(session.encrypt(key, msg, m))
        assert len(ct) == 48
        assert bytes(session.decrypt(key, ct, m)) == msg
        gcm = PyKCS11.AES_GCM_Mechanism(bytes(12), b"aad", 128)
        ct = bytes(session.encrypt(key, msg, gcm))
        assert len(ct) == len(msg) + 16
        assert bytes(session.decrypt(key, ct, gcm)) == msg

    check("AES-256 key, CBC_PAD and GCM round trips", aes)

    def hmac_check():
        value = b"k" * 32
        key = session.createObject([(PyKCS11.CKA_CLASS, PyKCS11.CKO_SECRET_KEY),
                                    (PyKCS11.CKA_KEY_TYPE, PyKCS11.CKK_GENERIC_SECRET),
                                    (PyKCS11.CKA_VALUE, value), (PyKCS11.CKA_TOKEN, False),
                                    (PyKCS11.CKA_SIGN, True), (PyKCS11.CKA_VERIFY, True)])
        mac = bytes(session.sign(key, msg, PyKCS11.Mechanism(PyKCS11.CKM_SHA256_HMAC, None)))
        assert mac == hmac.new(value, msg, hashlib.sha256).digest()

    check("CKM_SHA256_HMAC equals python's hmac", hmac_check)

    def digest():
        for mech, fn in [(PyKCS11.CKM_SHA256, hashlib.sha256), (PyKCS11.CKM_SHA512, hashlib.sha512),
                         (PyKCS11.CKM_SHA_1, hashlib.sha1)]:
            assert bytes(session.digest(msg, PyKCS11.Mechanism(mech, None))) == fn(msg).digest()

    check("digests equal hashlib's", digest)

    def find():
        found = session.findObjects([(PyKCS11.CKA_LABEL, "py-rsa")])
        assert len(found) == 2, found

    check("C_FindObjects by label finds both halves of the RSA pair", find)

    def random():
        r = bytes(session.generateRandom(32))
        assert len(r) == 32 and r != bytes(32)

    check("C_GenerateRandom", random)

    def sensitive_read():
        _, priv = keys["rsa"]
        # The raw call: PyKCS11's getAttributeValue hides the code.
        template = LL.ckattrlist(1)
        template[0].SetType(PyKCS11.CKA_PRIVATE_EXPONENT)
        rv = lib.lib.C_GetAttributeValue(session.session, priv, template)
        assert rv == PyKCS11.CKR_ATTRIBUTE_SENSITIVE, PyKCS11.CKR[rv]
        # And the friendly call returns no value.
        assert session.getAttributeValue(priv, [PyKCS11.CKA_PRIVATE_EXPONENT]) == [None]

    check("reading a sensitive CKA_PRIVATE_EXPONENT is CKR_ATTRIBUTE_SENSITIVE", sensitive_read)

    session.logout()
    session.closeSession()
    print("all passed" if FAILED == 0 else "%d failed" % FAILED)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
