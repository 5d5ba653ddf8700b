// Java's SunPKCS11 provider as a PKCS#11 client of the module: key pair and
// key generation in the token, signatures made there and verified by the
// JDK's own providers, encryption by the JDK decrypted there, AES-GCM round
// trips with a tampered tag refused as AEADBadTagException.
//
// Run with the JDK's single-file launcher:
//   java SunPkcs11Check.java CONFIG_FILE PIN
// Prints "ok   - NAME" or "FAIL - NAME: reason" per check (the format of
// conformance/lib.sh) and exits 1 if any check failed.

import java.nio.charset.StandardCharsets;
import java.security.*;
import java.security.spec.*;
import java.util.Arrays;
import javax.crypto.*;
import javax.crypto.spec.*;

public class SunPkcs11Check {
    static int failed = 0;

    interface Check {
        void run() throws Exception;
    }

    static void check(String name, Check c) {
        try {
            c.run();
            System.out.println("ok   - " + name);
        } catch (Throwable t) {
            failed++;
            System.out.println("FAIL - " + name + ": " + t);
        }
    }

    static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    public static void main(String[] args) throws Exception {
        Provider p11 = Security.getProvider("SunPKCS11").configure(args[0]);
        Security.addProvider(p11);
        KeyStore ks = KeyStore.getInstance("PKCS11", p11);
        ks.load(null, args[1].toCharArray());
        byte[] msg = "signed in the token, verified by the JDK".getBytes(StandardCharsets.UTF_8);

        KeyPair[] rsa = new KeyPair[1];
        check("RSA-2048 key pair generated in the token", () -> {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA", p11);
            g.initialize(2048);
            rsa[0] = g.generateKeyPair();
            require(rsa[0].getPrivate().getClass().getName().contains("P11"), "a token key");
        });
        for (String alg : new String[] {"SHA256withRSA", "SHA384withRSA", "SHA512withRSA", "SHA1withRSA"}) {
            check(alg + ": token signs, SunRsaSign verifies", () -> {
                Signature s = Signature.getInstance(alg, p11);
                s.initSign(rsa[0].getPrivate());
                s.update(msg);
                byte[] sig = s.sign();
                Signature v = Signature.getInstance(alg, "SunRsaSign");
                v.initVerify(rsa[0].getPublic());
                v.update(msg);
                require(v.verify(sig), "verifies");
                v.initVerify(rsa[0].getPublic());
                v.update("another message".getBytes(StandardCharsets.UTF_8));
                require(!v.verify(sig), "another message does not verify");
            });
        }
        check("RSASSA-PSS (SHA-256, salt 32): token signs, SunRsaSign verifies", () -> {
            PSSParameterSpec spec = new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1);
            Signature s = Signature.getInstance("SHA256withRSASSA-PSS", p11);
            s.setParameter(spec);
            s.initSign(rsa[0].getPrivate());
            s.update(msg);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance("RSASSA-PSS", "SunRsaSign");
            v.setParameter(spec);
            v.initVerify(rsa[0].getPublic());
            v.update(msg);
            require(v.verify(sig), "verifies");
        });
        check("RSA/ECB/PKCS1Padding: SunJCE encrypts, the token decrypts", () -> {
            Cipher e = Cipher.getInstance("RSA/ECB/PKCS1Padding", "SunJCE");
            e.init(Cipher.ENCRYPT_MODE, rsa[0].getPublic());
            byte[] ct = e.doFinal(msg);
            Cipher d = Cipher.getInstance("RSA/ECB/PKCS1Padding", p11);
            d.init(Cipher.DECRYPT_MODE, rsa[0].getPrivate());
            require(Arrays.equals(d.doFinal(ct), msg), "same plaintext");
        });

        for (String curve : new String[] {"secp256r1", "secp384r1", "secp521r1"}) {
            check("ECDSA on " + curve + ": token generates and signs, SunEC verifies", () -> {
                KeyPairGenerator g = KeyPairGenerator.getInstance("EC", p11);
                g.initialize(new ECGenParameterSpec(curve));
                KeyPair kp = g.generateKeyPair();
                Signature s = Signature.getInstance("SHA256withECDSA", p11);
                s.initSign(kp.getPrivate());
                s.update(msg);
                byte[] sig = s.sign();
                Signature v = Signature.getInstance("SHA256withECDSA", "SunEC");
                v.initVerify(kp.getPublic());
                v.update(msg);
                require(v.verify(sig), "verifies");
            });
        }

        check("AES-256-GCM: token round trip, tampered tag is AEADBadTagException", () -> {
            KeyGenerator g = KeyGenerator.getInstance("AES", p11);
            g.init(256);
            SecretKey key = g.generateKey();
            byte[] iv = new byte[12];
            new SecureRandom().nextBytes(iv);
            Cipher e = Cipher.getInstance("AES/GCM/NoPadding", p11);
            e.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
            e.updateAAD("header".getBytes(StandardCharsets.UTF_8));
            byte[] ct = e.doFinal(msg);
            require(ct.length == msg.length + 16, "ciphertext and tag");
            Cipher d = Cipher.getInstance("AES/GCM/NoPadding", p11);
            d.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
            d.updateAAD("header".getBytes(StandardCharsets.UTF_8));
            require(Arrays.equals(d.doFinal(ct), msg), "same plaintext");
            ct[ct.length - 1] ^= 1;
            d.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, iv));
            d.updateAAD("header".getBytes(StandardCharsets.UTF_8));
            try {
                d.doFinal(ct);
                throw new AssertionError("tampered ciphertext accepted");
            } catch (AEADBadTagException expected) {
                // The JDK maps CKR_ENCRYPTED_DATA_INVALID to this.
            }
        });
        check("AES-128-CBC/PKCS5Padding: token encrypts, SunJCE-equal with an imported key", () -> {
            byte[] raw = new byte[16];
            new SecureRandom().nextBytes(raw);
            SecretKey jce = new SecretKeySpec(raw, "AES");
            SecretKey token = (SecretKey) SecretKeyFactory.getInstance("AES", p11).translateKey(jce);
            byte[] iv = new byte[16];
            Cipher e = Cipher.getInstance("AES/CBC/PKCS5Padding", p11);
            e.init(Cipher.ENCRYPT_MODE, token, new IvParameterSpec(iv));
            byte[] ct = e.doFinal(msg);
            Cipher ref = Cipher.getInstance("AES/CBC/PKCS5Padding", "SunJCE");
            ref.init(Cipher.ENCRYPT_MODE, jce, new IvParameterSpec(iv));
            require(Arrays.equals(ct, ref.doFinal(msg)), "same ciphertext as SunJCE");
        });
        // HMAC-SHA256 keys of at least 32 bytes, as in SoftHSMv2 (a shorter
        // one is CKR_KEY_SIZE_RANGE in both).
        check("HmacSHA256 with an imported key equals SunJCE's", () -> {
            byte[] raw = "a shared hmac key of 32 bytes....".getBytes(StandardCharsets.UTF_8);
            Mac m = Mac.getInstance("HmacSHA256", p11);
            m.init(new SecretKeySpec(raw, "HmacSHA256"));
            Mac ref = Mac.getInstance("HmacSHA256", "SunJCE");
            ref.init(new SecretKeySpec(raw, "HmacSHA256"));
            require(Arrays.equals(m.doFinal(msg), ref.doFinal(msg)), "same MAC");
        });
        check("SHA-256 digest equals SUN's", () -> {
            byte[] a = MessageDigest.getInstance("SHA-256", p11).digest(msg);
            byte[] b = MessageDigest.getInstance("SHA-256", "SUN").digest(msg);
            require(Arrays.equals(a, b), "same digest");
        });
        check("SecureRandom from the token gives bytes", () -> {
            byte[] r = new byte[32];
            SecureRandom.getInstance("PKCS11", p11).nextBytes(r);
            require(!Arrays.equals(r, new byte[32]), "not all zero");
        });
        System.out.println((failed == 0 ? "all passed" : failed + " failed"));
        System.exit(failed == 0 ? 0 : 1);
    }
}
