//! The throttle suite: what every [`Throttle`] must do, for every kind of
//! attempt (passwords, user codes, client authentication, device
//! requests; CONTRACT.md "Users and sessions"), run with
//! two handles on the same counts (`throttle` and `other`: one value twice
//! for a throttle in memory, two nodes' throttles on one database), so a
//! shared throttle is seen to count guesses made on either.

use std::net::IpAddr;

use credlog_core::throttle::{Attempt, Throttle, Verdict};

fn address(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn attempt<'a>(user: &'a str, from: &str) -> Attempt<'a> {
    Attempt::password(user, Some(address(from)))
}

/// Five wrong passwords in a row lock a user name for a minute, from any
/// address; the next wrong one after the wait locks it again; the right
/// one ends the run.
pub async fn five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    let alice = attempt("alice", "192.0.2.1");
    for n in 0..5 {
        // Guesses spread over both nodes count together.
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(node.verdict(&alice, 100).await.unwrap(), Verdict::Go);
        node.failed(&alice, 100).await.unwrap();
    }
    assert_eq!(
        throttle.verdict(&alice, 100).await.unwrap(),
        Verdict::Wait(60)
    );
    // From another address too, and for the right password: the name is locked.
    let elsewhere = attempt("alice", "198.51.100.7");
    assert_eq!(
        other.verdict(&elsewhere, 130).await.unwrap(),
        Verdict::Wait(30)
    );
    assert_eq!(other.verdict(&elsewhere, 160).await.unwrap(), Verdict::Go);
    // Bob is not locked.
    assert_eq!(
        other
            .verdict(&attempt("bob", "192.0.2.1"), 100)
            .await
            .unwrap(),
        Verdict::Go
    );
    // One more wrong one after the wait locks it again; a right one ends the run.
    throttle.failed(&alice, 160).await.unwrap();
    assert_eq!(
        throttle.verdict(&alice, 161).await.unwrap(),
        Verdict::Wait(59)
    );
    other.succeeded(&alice, 300).await.unwrap();
    throttle.failed(&alice, 300).await.unwrap();
    assert_eq!(throttle.verdict(&alice, 300).await.unwrap(), Verdict::Go);
}

/// Thirty failed sign-ins from one address in a minute lock the address,
/// whatever names they tried; others and name-less attempts go on.
pub async fn thirty_failures_from_one_address_in_a_minute_lock_the_address(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    for n in 0..30 {
        let name = format!("user{n}");
        let guess = attempt(&name, "192.0.2.1");
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(node.verdict(&guess, 1000 + n).await.unwrap(), Verdict::Go);
        node.failed(&guess, 1000 + n).await.unwrap();
    }
    let next = attempt("carol", "192.0.2.1");
    assert_eq!(other.verdict(&next, 1029).await.unwrap(), Verdict::Wait(31));
    assert_eq!(
        throttle
            .verdict(&attempt("carol", "192.0.2.2"), 1029)
            .await
            .unwrap(),
        Verdict::Go
    );
    assert_eq!(throttle.verdict(&next, 1060).await.unwrap(), Verdict::Go);
    // Without an address only the name counts.
    let unknown = Attempt::password("dave", None);
    assert_eq!(throttle.verdict(&unknown, 1029).await.unwrap(), Verdict::Go);
}

/// Ten failed client authentications in a row lock a `client_id` for a
/// minute, from any address and for the right secret; another client goes
/// on; a success before the tenth ends the run. Client failures are
/// counted apart from sign-ins: they lock no user name of the same text.
pub async fn ten_failed_client_authentications_lock_the_client(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    let app = Attempt::client(Some("app"), Some(address("192.0.2.1")));
    for n in 0..9 {
        let node = if n % 2 == 0 { throttle } else { other };
        node.failed(&app, 100).await.unwrap();
    }
    // Nine, then the right secret: the run ends.
    assert_eq!(other.verdict(&app, 100).await.unwrap(), Verdict::Go);
    throttle.succeeded(&app, 100).await.unwrap();
    for n in 0..10 {
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(node.verdict(&app, 200).await.unwrap(), Verdict::Go, "{n}");
        node.failed(&app, 200).await.unwrap();
    }
    assert_eq!(
        throttle.verdict(&app, 200).await.unwrap(),
        Verdict::Wait(60)
    );
    let elsewhere = Attempt::client(Some("app"), Some(address("198.51.100.7")));
    assert_eq!(
        other.verdict(&elsewhere, 230).await.unwrap(),
        Verdict::Wait(30)
    );
    assert_eq!(other.verdict(&elsewhere, 260).await.unwrap(), Verdict::Go);
    let another = Attempt::client(Some("another-app"), Some(address("198.51.100.7")));
    assert_eq!(other.verdict(&another, 200).await.unwrap(), Verdict::Go);
    // A user named like the client is not locked by it.
    let user = Attempt::password("app", Some(address("198.51.100.7")));
    assert_eq!(throttle.verdict(&user, 200).await.unwrap(), Verdict::Go);
}

/// Sixty failed client authentications from one address in a minute lock
/// the address for every client; sign-ins from it are not counted with
/// them, nor they with sign-ins.
pub async fn sixty_failed_client_authentications_lock_the_address(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    let from = Some(address("192.0.2.9"));
    for n in 0..60 {
        let name = format!("client{n}");
        let guess = Attempt::client(Some(&name), from);
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(node.verdict(&guess, 1000 + n).await.unwrap(), Verdict::Go);
        node.failed(&guess, 1000 + n).await.unwrap();
    }
    let next = Attempt::client(Some("fresh"), from);
    assert_eq!(other.verdict(&next, 1059).await.unwrap(), Verdict::Wait(1));
    assert_eq!(
        throttle.verdict(&next, 1030).await.unwrap(),
        Verdict::Wait(30)
    );
    assert_eq!(throttle.verdict(&next, 1060).await.unwrap(), Verdict::Go);
    // A request that names no client is refused from the address too.
    let nameless = Attempt::client(None, from);
    assert_eq!(
        throttle.verdict(&nameless, 1030).await.unwrap(),
        Verdict::Wait(30)
    );
    // Sign-ins from the address are another count.
    let person = Attempt::password("carol", from);
    assert_eq!(throttle.verdict(&person, 1030).await.unwrap(), Verdict::Go);
}

/// Sixty device authorization requests a minute per client and per
/// address: each counted, the 61st refused until the window ends.
pub async fn sixty_device_requests_a_minute_per_client_and_address(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    for n in 0..60u64 {
        // One client from many addresses ...
        let from = address(&format!("192.0.2.{n}"));
        let asked = Attempt::device_request(Some("tv"), Some(from));
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(node.verdict(&asked, 5000).await.unwrap(), Verdict::Go);
        node.failed(&asked, 5000).await.unwrap();
        // ... and many clients from one address.
        let name = format!("tv{n}");
        let asked = Attempt::device_request(Some(&name), Some(address("198.51.100.1")));
        assert_eq!(node.verdict(&asked, 5000).await.unwrap(), Verdict::Go);
        node.failed(&asked, 5000).await.unwrap();
    }
    let tv = Attempt::device_request(Some("tv"), Some(address("203.0.113.1")));
    assert_eq!(other.verdict(&tv, 5010).await.unwrap(), Verdict::Wait(50));
    let busy = Attempt::device_request(Some("radio"), Some(address("198.51.100.1")));
    assert_eq!(
        throttle.verdict(&busy, 5010).await.unwrap(),
        Verdict::Wait(50)
    );
    let fresh = Attempt::device_request(Some("radio"), Some(address("203.0.113.1")));
    assert_eq!(throttle.verdict(&fresh, 5010).await.unwrap(), Verdict::Go);
    assert_eq!(throttle.verdict(&tv, 5060).await.unwrap(), Verdict::Go);
    // Requests are not failed client authentications.
    let client = Attempt::client(Some("tv"), Some(address("198.51.100.1")));
    assert_eq!(throttle.verdict(&client, 5010).await.unwrap(), Verdict::Go);
}

/// Wrong user codes are counted per account like passwords, and a right
/// code (the person's own, typed between guesses) ends nothing: the fifth
/// wrong one locks. They count with the address's failed sign-ins.
pub async fn a_right_user_code_never_resets_the_count(
    throttle: &dyn Throttle,
    other: &dyn Throttle,
) {
    let from = Some(address("192.0.2.77"));
    let typing = Attempt::user_code("alice", from);
    for n in 0..5 {
        let node = if n % 2 == 0 { throttle } else { other };
        assert_eq!(
            node.verdict(&typing, 100).await.unwrap(),
            Verdict::Go,
            "{n}"
        );
        node.failed(&typing, 100).await.unwrap();
        // Her own code, right, between the guesses.
        other.succeeded(&typing, 100).await.unwrap();
    }
    assert_eq!(
        throttle.verdict(&typing, 100).await.unwrap(),
        Verdict::Wait(60)
    );
    // Her password is another count; the address's is shared.
    let password = Attempt::password("alice", Some(address("198.51.100.3")));
    assert_eq!(throttle.verdict(&password, 100).await.unwrap(), Verdict::Go);
    for n in 0..25 {
        let name = format!("user{n}");
        other
            .failed(&Attempt::password(&name, from), 100)
            .await
            .unwrap();
    }
    let someone = Attempt::password("dave", from);
    assert_eq!(
        throttle.verdict(&someone, 100).await.unwrap(),
        Verdict::Wait(60)
    );
}
