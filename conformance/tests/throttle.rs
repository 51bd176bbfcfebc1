//! The throttle suite on the throttle in memory (one value for both handles).

use credlog_conformance::throttle_suite as suite;
use credlog_core::throttle::{Limits, MemoryThrottle};

#[tokio::test]
async fn five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::five_wrong_passwords_in_a_row_lock_the_user_name_for_a_minute(&throttle, &throttle)
        .await;
}

#[tokio::test]
async fn thirty_failures_from_one_address_in_a_minute_lock_the_address() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::thirty_failures_from_one_address_in_a_minute_lock_the_address(&throttle, &throttle)
        .await;
}

#[tokio::test]
async fn ten_failed_client_authentications_lock_the_client() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::ten_failed_client_authentications_lock_the_client(&throttle, &throttle).await;
}

#[tokio::test]
async fn sixty_failed_client_authentications_lock_the_address() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::sixty_failed_client_authentications_lock_the_address(&throttle, &throttle).await;
}

#[tokio::test]
async fn sixty_device_requests_a_minute_per_client_and_address() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::sixty_device_requests_a_minute_per_client_and_address(&throttle, &throttle).await;
}

#[tokio::test]
async fn a_right_user_code_never_resets_the_count() {
    let throttle = MemoryThrottle::new(Limits::default());
    suite::a_right_user_code_never_resets_the_count(&throttle, &throttle).await;
}
