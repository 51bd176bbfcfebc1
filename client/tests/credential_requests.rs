//! What the OAuth 1 client sends a provider's credential endpoints
//! (RFC 5849 2.1, 2.3), seen by a recording stub.

mod support;

use credlog_client::{ClientOptions, ProviderConfig};
use credlog_core::rfc5849::{SignedRequest, Source, TokenCredentials, Transmission};
use support::*;

/// RFC 5849 2.1 and 2.3 on the wire: the temporary credential request
/// carries `oauth_callback` and the request-token params, the token request
/// `oauth_token`, `oauth_verifier` and the access-token params, each signed
/// (the second with the temporary secret).
#[tokio::test]
async fn credential_requests_carry_the_callback_verifier_and_extra_params() {
    let recorder = Recorder::answering(
        "application/x-www-form-urlencoded",
        "oauth_token=temporary&oauth_token_secret=temporary%20secret&oauth_callback_confirmed=true",
    )
    .await;
    for placement in TRANSMISSIONS {
        let provider = registry()
            .register(
                "stub",
                ProviderConfig {
                    client_id: Some("printer".into()),
                    client_secret: Some("printer secret".into()),
                    request_token_url: Some(recorder.url("/initiate")),
                    request_token_params: vec![("x_app".into(), "printer".into())],
                    access_token_url: Some(recorder.url("/token")),
                    access_token_params: vec![("x_step".into(), "exchange".into())],
                    authorize_url: Some(recorder.url("/authorize?lang=en")),
                    authorize_params: vec![("x_theme".into(), "dark mode".into())],
                    client_options: ClientOptions {
                        placement: Some(placement),
                        ..ClientOptions::default()
                    },
                    ..ProviderConfig::default()
                },
            )
            .unwrap();
        let redirect = provider.authorize_redirect("s", CALLBACK).await.unwrap();
        assert_eq!(
            redirect,
            recorder.url("/authorize?lang=en&x_theme=dark%20mode&oauth_token=temporary")
        );
        let token = provider
            .authorize_access_token("s", "oauth_token=temporary&oauth_verifier=v%201")
            .await
            .unwrap();
        // The stub answers the same form twice.
        assert_eq!(
            token,
            TokenCredentials::new("temporary", "temporary secret")
        );

        let requests = recorder.take();
        assert_eq!(requests.len(), 2);
        let expected_source = match placement {
            Transmission::Header => Source::Header,
            Transmission::Body => Source::Body,
            Transmission::Query => Source::Query,
        };
        let initiate = &requests[0];
        assert_eq!(initiate.method, "POST");
        assert!(initiate.uri.starts_with(&recorder.url("/initiate")));
        assert_eq!(
            check_signature(initiate, "printer secret", ""),
            (expected_source, true),
            "{placement:?}"
        );
        let signed = SignedRequest::parse(initiate).unwrap();
        assert_eq!(signed.callback(), Some(CALLBACK));
        assert_eq!(signed.token(), None);
        assert_eq!(
            body_fields(initiate),
            [("x_app".to_owned(), "printer".to_owned())]
        );

        let exchange = &requests[1];
        assert_eq!(exchange.method, "POST");
        assert!(exchange.uri.starts_with(&recorder.url("/token")));
        assert_eq!(
            check_signature(exchange, "printer secret", "temporary secret"),
            (expected_source, true),
            "{placement:?}"
        );
        let signed = SignedRequest::parse(exchange).unwrap();
        assert_eq!(signed.token(), Some("temporary"));
        assert_eq!(signed.verifier(), Some("v 1"));
        assert_eq!(signed.callback(), None);
        assert_eq!(
            body_fields(exchange),
            [("x_step".to_owned(), "exchange".to_owned())]
        );
    }
}
