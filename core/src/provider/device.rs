//! RFC 8628 3.3: the verification URI, where a signed-in person types the
//! user code their device shows, then allows or denies its request. The
//! guessing limit (5.1) is [`rfc8628::pending_for`]'s; the host shows the
//! pages ([`Consent::enter_code`], [`Consent::ask`], [`Consent::show`]).

use crate::consent::{path_and_query, CodeForm, Page, Prompt, ReturnsTo};
use crate::form::Fields;
use crate::rfc8628::{self, PendingDevice, VerificationError, VERIFICATION_PATH};
use crate::store::{CredentialStore, StoreError};
use crate::{Request, Response};

use super::Host;

/// `GET`: the form to type the code, filled in from
/// `verification_uri_complete` (3.3.1). Nothing is looked up before the
/// person submits it, so every look-up is throttled.
pub(super) async fn page<H: Host>(host: &H, request: &Request) -> Response {
    let Some(owner) = host.owner(request).await else {
        return host.sign_in(path_and_query(&request.uri));
    };
    let query = Fields::query(request).unwrap_or_default();
    let form = CodeForm {
        status: 200,
        action: VERIFICATION_PATH,
        typed: query.get("user_code").unwrap_or_default(),
        error: None,
    };
    host.enter_code(&owner, &form)
}

/// `POST`: the typed code, then (with `confirm`, the consent form's
/// answer) the person's decision, recorded.
pub(super) async fn submit<H: Host>(
    store: &dyn CredentialStore,
    host: &H,
    request: &Request,
    now: u64,
) -> Response {
    let Some(owner) = host.owner(request).await else {
        return host.sign_in(VERIFICATION_PATH);
    };
    let Some(fields) = Fields::parse(&request.body) else {
        return host.show(&Page::UNREADABLE_FORM);
    };
    if let Err(refused) = host.genuine(&owner, &fields) {
        return refused;
    }
    let typed = fields.get("user_code").unwrap_or_default();
    let user = host.user(&owner);
    let retype = |error: &str| {
        let form = CodeForm {
            status: 400,
            action: VERIFICATION_PATH,
            typed,
            error: Some(error),
        };
        host.enter_code(&owner, &form)
    };
    let found =
        rfc8628::pending_for(store, host.throttle(), user, host.address(), typed, now).await;
    let device = match found {
        Ok(device) => device,
        Err(VerificationError::Store(error)) => return store_failed(host, &error),
        Err(VerificationError::Throttled { retry_after }) => return throttled(host, retry_after),
        Err(wrong) => {
            tracing::info!(%user, address = ?host.address(), "a wrong user code was typed");
            return retype(&wrong.to_string());
        }
    };
    if fields.get("confirm").is_none() {
        return ask(host, &owner, &device);
    }
    let approved = match host.answer(&owner, &fields) {
        Ok(approved) => approved,
        Err(refused) => return refused,
    };
    let answered = if approved {
        rfc8628::approve(store, &device, user, host.auth_time(&owner), now).await
    } else {
        rfc8628::deny(store, &device, now).await
    };
    match answered {
        Ok(()) => host.show(&Page::DeviceAnswered {
            client_name: &device.client.record.name,
            approved,
        }),
        Err(VerificationError::Store(error)) => store_failed(host, &error),
        // Answered meanwhile (another tab), or expired since the page was shown.
        Err(late) => retype(&late.to_string()),
    }
}

/// 3.3: which client asks for what, to allow or deny.
fn ask<H: Host>(host: &H, owner: &H::Owner, device: &PendingDevice) -> Response {
    let scope = device.scope.to_string();
    let user_code = device.user_code.display();
    let prompt = Prompt {
        client_name: &device.client.record.name,
        scope: &scope,
        returns_to: ReturnsTo::Device {
            user_code: &user_code,
        },
        action: VERIFICATION_PATH,
        fields: vec![("user_code", &user_code)],
    };
    host.ask(owner, &prompt)
}

/// 429 with `Retry-After`: too many wrong codes from this user or address.
fn throttled<H: Host>(host: &H, retry_after: u64) -> Response {
    let message = format!(
        "Too many wrong codes or failed sign-ins from this account or address. \
         Try again in {retry_after} seconds."
    );
    let mut page = host.show(&Page::Refused {
        status: 429,
        title: "Too many attempts",
        message: &message,
    });
    page.headers
        .push(("Retry-After".to_owned(), retry_after.to_string()));
    page
}

/// The store failed: logged here, a bare page for the person.
fn store_failed<H: Host>(host: &H, error: &StoreError) -> Response {
    tracing::error!(%error, "the credential store failed");
    host.show(&Page::store_failed(error))
}
