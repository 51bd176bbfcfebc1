//! RFC 7515's published examples, as test vectors: the keys of appendices
//! A.2 (RS256) and A.3 (ES256) and the JWS each signs; and RFC 8037's
//! Ed25519 key (A.1, A.2) and the EdDSA JWS it signs (A.4). The unit tests, the
//! fuzz target and its seeds all read them from here.

use super::JwkSet;

/// RFC 7515 A.2.1: the example RSA public key's modulus (`e` is `AQAB`).
pub const A2_N: &str = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ";

/// RFC 7515 A.2.1: the JWS that key verifies, in the compact serialization.
pub const A2_JWS: &str = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 A.3.1: the example P-256 public key's `x`.
pub const A3_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
/// RFC 7515 A.3.1: its `y`.
pub const A3_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

/// RFC 7515 A.3.1: the ES256 JWS that key verifies.
pub const A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 8037 A.1: the example Ed25519 private key's `d`.
pub const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
/// RFC 8037 A.2: its public key's `x`.
pub const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
/// RFC 8037 A.4: the EdDSA JWS that key signs over the payload
/// "Example of Ed25519 signing" (not a JSON object: not a JWT).
pub const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// The RFC 8037 A.2 Ed25519 key alone, as a JWK Set.
pub fn rfc8037_keys() -> JwkSet {
    JwkSet::parse(&serde_json::json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "x": RFC8037_X,
    }]}))
    .expect("RFC 8037's A.2 key is a valid set")
}

/// The A.2 RSA key alone, as a JWK Set.
pub fn a2_keys() -> JwkSet {
    JwkSet::parse(&serde_json::json!({"keys": [{"kty": "RSA", "n": A2_N, "e": "AQAB"}]}))
        .expect("RFC 7515's A.2 key is a valid set")
}

/// The A.3 P-256 key alone, as a JWK Set.
pub fn a3_keys() -> JwkSet {
    JwkSet::parse(&serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y,
    }]}))
    .expect("RFC 7515's A.3 key is a valid set")
}

/// The three example keys in one set.
pub fn all_keys() -> JwkSet {
    JwkSet::parse(&serde_json::json!({"keys": [
        {"kty": "RSA", "n": A2_N, "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y},
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X},
    ]}))
    .expect("RFC 7515's example keys form a valid set")
}
