//! The checked signature vectors of `shared/VECTORS.md`: the requests of
//! RFC 5849 1.2, 3.4.1 and 3.4.4, and OAuth Core 1.0 Appendix A.5, each as
//! it travels (header, query, body) with what it must produce.

use credlog_core::rfc5849::{Endpoint, Oauth1Config, SignatureMethods, TokenKind};
use credlog_core::Request;

use crate::FixedCredentials;

/// One signed request and what validating it must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vector {
    /// Where the example comes from.
    pub name: &'static str,
    /// The HTTP method.
    pub method: &'static str,
    /// The absolute request URI.
    pub uri: &'static str,
    /// The `Authorization` header value, as sent.
    pub authorization: &'static str,
    /// A form body, if the request has one.
    pub form_body: Option<&'static str>,
    /// The endpoint the request is for.
    pub endpoint: Endpoint,
    /// The client identifier and shared-secret.
    pub client: (&'static str, &'static str),
    /// The token and its shared-secret, if the request carries one.
    pub token: Option<(&'static str, &'static str)>,
    /// The callback URI the client must have registered, if any.
    pub callback: Option<&'static str>,
    /// The normalised parameter string (3.4.1.3.2), where the source prints it.
    pub normalized_parameters: Option<&'static str>,
    /// The signature base string (3.4.1.1); `None` for PLAINTEXT.
    pub base_string: Option<&'static str>,
    /// `oauth_signature`, decoded.
    pub signature: &'static str,
    /// `oauth_nonce`, if the request carries one.
    pub nonce: Option<&'static str>,
    /// `oauth_timestamp`, if the request carries one; also the clock the
    /// validator is given.
    pub timestamp: Option<u64>,
}

impl Vector {
    /// The request as it travels.
    pub fn request(&self) -> Request {
        let request = Request::new(self.method, self.uri)
            .with_header("Host", host_of(self.uri))
            .with_header("Authorization", self.authorization);
        match self.form_body {
            Some(body) => Request {
                body: body.as_bytes().to_vec(),
                ..request.with_header("Content-Type", "application/x-www-form-urlencoded")
            },
            None => request,
        }
    }

    /// The client, token and callback the request needs, with no nonce used yet.
    pub fn credentials(&self) -> FixedCredentials {
        self.add_credentials(FixedCredentials::new())
    }

    fn add_credentials(&self, credentials: FixedCredentials) -> FixedCredentials {
        let (key, secret) = self.client;
        let mut credentials = credentials.with_client(key, secret);
        if let Some(callback) = self.callback {
            credentials = credentials
                .with_client_change(key, |client| client.callback_uris.push(callback.to_owned()));
        }
        if let Some((token, token_secret)) = self.token {
            let kind = self.endpoint.token_kind().unwrap_or(TokenKind::Token);
            credentials = credentials.with_token(key, token, token_secret, kind);
        }
        credentials
    }

    /// The time to validate at: the request's own timestamp.
    pub fn now(&self) -> u64 {
        self.timestamp.unwrap_or(0)
    }

    /// A configuration that allows every built-in method, so each vector
    /// goes through the same validator that serves live requests.
    pub fn config() -> Oauth1Config {
        Oauth1Config {
            signature_methods: SignatureMethods::all_builtin(),
            // The vectors check signatures, not the transport: PLAINTEXT's
            // (V2) runs as over TLS.
            over_tls: true,
            ..Oauth1Config::default()
        }
    }
}

fn host_of(uri: &str) -> &str {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

const PHOTOS_CLIENT: (&str, &str) = ("dpf43f3p2l4k3l03", "kd94hf93k423kf44");

/// RFC 5849 1.2 (VECTORS.md V1): the three requests of the photos example,
/// and the third again with HMAC-SHA256.
pub fn rfc5849_1_2() -> [Vector; 4] {
    let resource = Vector {
        name: "RFC 5849 1.2, protected resource",
        method: "GET",
        uri: "http://photos.example.net/photos?file=vacation.jpg&size=original",
        authorization: "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
            oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA1\", \
            oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", \
            oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"",
        form_body: None,
        endpoint: Endpoint::Resource,
        client: PHOTOS_CLIENT,
        token: Some(("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")),
        callback: None,
        normalized_parameters: None,
        base_string: Some(
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal",
        ),
        signature: "MdpQcU8iPSUjWoN/UDMsK2sui9I=",
        nonce: Some("chapoH"),
        timestamp: Some(137131202),
    };
    [
        Vector {
            name: "RFC 5849 1.2, temporary credentials",
            method: "POST",
            uri: "https://photos.example.net/initiate",
            authorization: "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
                oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131200\", \
                oauth_nonce=\"wIjqoS\", oauth_callback=\"http%3A%2F%2Fprinter.example.com%2Fready\", \
                oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\"",
            form_body: None,
            endpoint: Endpoint::Initiate,
            client: PHOTOS_CLIENT,
            token: None,
            callback: Some("http://printer.example.com/ready"),
            normalized_parameters: None,
            base_string: Some(
                "POST&https%3A%2F%2Fphotos.example.net%2Finitiate&oauth_callback%3Dhttp%253A%252F%252Fprinter.example.com%252Fready%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DwIjqoS%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131200",
            ),
            signature: "74KNZJeDHnMBp0EMJ9ZHt/XKycU=",
            nonce: Some("wIjqoS"),
            timestamp: Some(137131200),
        },
        Vector {
            name: "RFC 5849 1.2, token credentials",
            method: "POST",
            uri: "https://photos.example.net/token",
            authorization: "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
                oauth_token=\"hh5s93j4hdidpola\", oauth_signature_method=\"HMAC-SHA1\", \
                oauth_timestamp=\"137131201\", oauth_nonce=\"walatlh\", \
                oauth_verifier=\"hfdp7dh39dks9884\", oauth_signature=\"gKgrFCywp7rO0OXSjdot%2FIHF7IU%3D\"",
            form_body: None,
            endpoint: Endpoint::Token,
            client: PHOTOS_CLIENT,
            token: Some(("hh5s93j4hdidpola", "hdhd0244k9j7ao03")),
            callback: None,
            normalized_parameters: None,
            base_string: Some(
                "POST&https%3A%2F%2Fphotos.example.net%2Ftoken&oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dwalatlh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dhh5s93j4hdidpola%26oauth_verifier%3Dhfdp7dh39dks9884",
            ),
            signature: "gKgrFCywp7rO0OXSjdot/IHF7IU=",
            nonce: Some("walatlh"),
            timestamp: Some(137131201),
        },
        resource,
        Vector {
            name: "RFC 5849 1.2, protected resource with HMAC-SHA256",
            authorization: "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
                oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA256\", \
                oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", \
                oauth_signature=\"HtMwoX2zenlFjgGg%2FSNEoKEQmL7CzxYFEKzs7er044Y%3D\"",
            base_string: Some(
                "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DchapoH%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D137131202%26oauth_token%3Dnnch734d00sl2jdk%26size%3Doriginal",
            ),
            signature: "HtMwoX2zenlFjgGg/SNEoKEQmL7CzxYFEKzs7er044Y=",
            ..resource
        },
    ]
}

/// The signature RFC 5849 3.4.1 prints for its example, which is wrong
/// (RFC Errata 2550): a validator must refuse it.
pub const RFC5849_3_4_1_PRINTED_SIGNATURE: &str = "bYT5CMsGcbgUdFHObYMEfcx6bsw=";

/// RFC 5849 3.4.1 (VECTORS.md V2): parameters in the header, the query and
/// the form body, with HMAC-SHA1 (the errata's signature) and HMAC-SHA256.
pub fn rfc5849_3_4_1() -> [Vector; 2] {
    let sha1 = Vector {
        name: "RFC 5849 3.4.1 (Errata 2550)",
        method: "POST",
        uri: "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
        authorization: "OAuth realm=\"Example\", oauth_consumer_key=\"9djdj82h48djs9d2\", \
            oauth_token=\"kkk9d7dh3k39sjv7\", oauth_signature_method=\"HMAC-SHA1\", \
            oauth_timestamp=\"137131201\", oauth_nonce=\"7d8f3e4a\", \
            oauth_signature=\"r6%2FTJjbCOr97%2F%2BUU0NsvSne7s5g%3D\"",
        form_body: Some("c2&a3=2+q"),
        endpoint: Endpoint::Resource,
        client: ("9djdj82h48djs9d2", "j49sk3j29djd"),
        token: Some(("kkk9d7dh3k39sjv7", "dh893hdasih9")),
        callback: None,
        normalized_parameters: Some(
            "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA1&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7",
        ),
        base_string: Some(
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
        ),
        signature: "r6/TJjbCOr97/+UU0NsvSne7s5g=",
        nonce: Some("7d8f3e4a"),
        timestamp: Some(137131201),
    };
    [
        sha1,
        Vector {
            name: "RFC 5849 3.4.1 with HMAC-SHA256",
            authorization: "OAuth realm=\"Example\", oauth_consumer_key=\"9djdj82h48djs9d2\", \
                oauth_token=\"kkk9d7dh3k39sjv7\", oauth_signature_method=\"HMAC-SHA256\", \
                oauth_timestamp=\"137131201\", oauth_nonce=\"7d8f3e4a\", \
                oauth_signature=\"ypAxjNip%2B%2BDm0fTM%2BgCl8wAo6ufSnseu1WHxL7py3BU%3D\"",
            normalized_parameters: Some(
                "a2=r%20b&a3=2%20q&a3=a&b5=%3D%253D&c%40=&c2=&oauth_consumer_key=9djdj82h48djs9d2&oauth_nonce=7d8f3e4a&oauth_signature_method=HMAC-SHA256&oauth_timestamp=137131201&oauth_token=kkk9d7dh3k39sjv7",
            ),
            base_string: Some(
                "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7",
            ),
            signature: "ypAxjNip++Dm0fTM+gCl8wAo6ufSnseu1WHxL7py3BU=",
            ..sha1
        },
    ]
}

/// RFC 5849 3.4.4 (VECTORS.md V2): a PLAINTEXT temporary credential
/// request with neither timestamp nor nonce (3.1 allows it).
pub fn rfc5849_3_4_4() -> Vector {
    Vector {
        name: "RFC 5849 3.4.4, PLAINTEXT",
        method: "POST",
        uri: "https://server.example.com/request_temp_credentials",
        authorization: "OAuth realm=\"Example\", oauth_consumer_key=\"jd83jd92dhsh93js\", \
            oauth_signature_method=\"PLAINTEXT\", \
            oauth_callback=\"http%3A%2F%2Fclient.example.net%2Fcb%3Fx%3D1\", \
            oauth_signature=\"ja893SD9%26\"",
        form_body: None,
        endpoint: Endpoint::Initiate,
        client: ("jd83jd92dhsh93js", "ja893SD9"),
        token: None,
        callback: Some("http://client.example.net/cb?x=1"),
        normalized_parameters: None,
        base_string: None,
        signature: "ja893SD9&",
        nonce: None,
        timestamp: None,
    }
}

/// OAuth Core 1.0 Appendix A.5 (VECTORS.md V3): a resource request with
/// `oauth_version=1.0`.
pub fn oauth_core_a_5() -> Vector {
    Vector {
        name: "OAuth Core 1.0 A.5",
        method: "GET",
        uri: "http://photos.example.net/photos?file=vacation.jpg&size=original",
        authorization: "OAuth realm=\"http://photos.example.net/\", \
            oauth_consumer_key=\"dpf43f3p2l4k3l03\", oauth_token=\"nnch734d00sl2jdk\", \
            oauth_signature_method=\"HMAC-SHA1\", oauth_signature=\"tR3%2BTy81lMeYAr%2FFid0kMTYa%2FWM%3D\", \
            oauth_timestamp=\"1191242096\", oauth_nonce=\"kllo9940pd9333jh\", oauth_version=\"1.0\"",
        form_body: None,
        endpoint: Endpoint::Resource,
        client: PHOTOS_CLIENT,
        token: Some(("nnch734d00sl2jdk", "pfkkdhi9sl3r4s00")),
        callback: None,
        normalized_parameters: Some(
            "file=vacation.jpg&oauth_consumer_key=dpf43f3p2l4k3l03&oauth_nonce=kllo9940pd9333jh&oauth_signature_method=HMAC-SHA1&oauth_timestamp=1191242096&oauth_token=nnch734d00sl2jdk&oauth_version=1.0&size=original",
        ),
        base_string: Some(
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal",
        ),
        signature: "tR3+Ty81lMeYAr/Fid0kMTYa/WM=",
        nonce: Some("kllo9940pd9333jh"),
        timestamp: Some(1191242096),
    }
}

/// Every vector above.
pub fn all() -> Vec<Vector> {
    let mut all = Vec::new();
    all.extend(rfc5849_1_2());
    all.extend(rfc5849_3_4_1());
    all.push(rfc5849_3_4_4());
    all.push(oauth_core_a_5());
    all
}

/// The clients and tokens of every vector in one source, with no nonce used.
pub fn all_credentials() -> FixedCredentials {
    all()
        .iter()
        .fold(FixedCredentials::new(), |credentials, vector| {
            vector.add_credentials(credentials)
        })
}
