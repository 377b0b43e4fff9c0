//! pg_stat_activity text is untrusted bytes: a session of a `SQL_ASCII`
//! database can put anything in its query. Whatever bytes each text column
//! holds, the conversion to a session never fails, keeps valid UTF-8 exactly
//! and shows an invalid sequence as U+FFFD.

use std::time::{Duration, SystemTime};

use opsdeck::domain::SessionState;
use opsdeck::pg::{ActivityRow, session_of};
use proptest::prelude::*;

/// Bytes that are often valid UTF-8 (multi-byte included) and often not.
fn text_bytes() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        1 => Just(None),
        3 => any::<String>().prop_map(|s| Some(s.into_bytes())),
        3 => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Some),
        // Valid text with one stray Latin-1 byte spliced in.
        3 => (any::<String>(), 0x80u8..=0xff, any::<prop::sample::Index>()).prop_map(|(s, b, at)| {
            let mut v = s.into_bytes();
            let i = at.index(v.len() + 1);
            v.insert(i, b);
            Some(v)
        }),
    ]
}

/// What the conversion must make of a column: the text itself when it is
/// valid UTF-8, U+FFFD in place of each bad sequence otherwise.
fn expected(bytes: &Option<Vec<u8>>) -> String {
    match bytes {
        None => String::new(),
        Some(b) => match std::str::from_utf8(b) {
            Ok(s) => s.to_string(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_in_any_text_column_make_a_session(
        pid in any::<i32>(),
        usename in text_bytes(),
        application_name in text_bytes(),
        client in text_bytes(),
        state in text_bytes(),
        wait_event_type in text_bytes(),
        wait_event in text_bytes(),
        query in text_bytes(),
        running_us in proptest::option::of(any::<i64>()),
        blocked_by in proptest::option::of(proptest::collection::vec(any::<i32>(), 0..4)),
    ) {
        let row = ActivityRow {
            pid,
            backend_start: None,
            usename: usename.as_deref(),
            application_name: application_name.as_deref(),
            client: client.as_deref(),
            state: state.as_deref(),
            wait_event_type: wait_event_type.as_deref(),
            wait_event: wait_event.as_deref(),
            running_us,
            query: query.as_deref(),
            blocked_by: blocked_by.clone(),
        };
        let s = session_of(&row);
        prop_assert_eq!(s.pid, pid);
        prop_assert_eq!(&s.user, &expected(&usename));
        prop_assert_eq!(&s.application, &expected(&application_name));
        prop_assert_eq!(&s.client, &expected(&client));
        prop_assert_eq!(&s.query, &expected(&query));
        for (column, bytes) in [
            (&s.user, &usename),
            (&s.application, &application_name),
            (&s.client, &client),
            (&s.query, &query),
        ] {
            if let Some(b) = bytes {
                if std::str::from_utf8(b).is_err() {
                    prop_assert!(column.contains('\u{FFFD}'), "{:?} from {:?}", column, b);
                }
            }
        }
        let wait = match (&wait_event_type, &wait_event) {
            (_, None) => None,
            (kind, Some(_)) => {
                let event = expected(&wait_event);
                Some(match expected(kind).as_str() {
                    k @ ("Lock" | "LWLock") => format!("{k}:{event}"),
                    _ => event,
                })
            }
        };
        prop_assert_eq!(s.wait_event, wait);
        let state_text = state.as_ref().map(|_| expected(&state));
        prop_assert_eq!(s.state, opsdeck::pg::state_of(state_text.as_deref()));
        prop_assert_eq!(s.backend_start, SystemTime::UNIX_EPOCH);
        prop_assert_eq!(
            s.running,
            Duration::from_micros(running_us.and_then(|r| u64::try_from(r).ok()).unwrap_or(0))
        );
        prop_assert_eq!(s.blocked_by, blocked_by.unwrap_or_default());
    }
}

#[test]
fn states_survive_as_words_and_bad_bytes_are_replaced_not_dropped() {
    let row = ActivityRow {
        pid: 42,
        state: Some(b"idle in transaction"),
        wait_event_type: Some(b"Lock"),
        wait_event: Some(b"transactionid"),
        query: Some(b"UPDATE t SET name = 'Jos\xe9' /* \xff\xfe */ WHERE id = 1"),
        application_name: Some("café-app".as_bytes()),
        ..ActivityRow::default()
    };
    let s = session_of(&row);
    assert_eq!(s.state, SessionState::IdleInTransaction);
    assert_eq!(s.wait_event.as_deref(), Some("Lock:transactionid"));
    assert_eq!(
        s.query,
        "UPDATE t SET name = 'Jos\u{FFFD}' /* \u{FFFD}\u{FFFD} */ WHERE id = 1"
    );
    assert_eq!(s.application, "café-app");
}
