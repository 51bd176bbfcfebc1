//! The sign-in throttle suite: what every [`Throttle`] must do, run with
//! two handles on the same counts (`throttle` and `other`: one value twice
//! for a throttle in memory, two nodes' throttles on one database), so a
//! shared throttle is seen to count guesses made on either.

use credlog_core::throttle::{Attempt, Throttle, Verdict};

fn attempt<'a>(user: &'a str, address: &str) -> Attempt<'a> {
    Attempt {
        user,
        address: Some(address.parse().unwrap()),
    }
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
    let unknown = Attempt {
        user: "dave",
        address: None,
    };
    assert_eq!(throttle.verdict(&unknown, 1029).await.unwrap(), Verdict::Go);
}
