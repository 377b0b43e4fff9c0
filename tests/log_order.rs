//! The merge of many log sources by time, as a property: whatever way the
//! sources' lines (each source in its own order) are interleaved into
//! batches, the console's buffer and `opsdeck logs`' output are in time
//! order within the reorder window, lose nothing, keep each source's order,
//! and count exactly the lines that came later than the window.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use opsdeck::core::LogsView;
use opsdeck::domain::{Level, LogLine, LogOrder, OrderedStream};
use proptest::prelude::*;

const WINDOW: Duration = Duration::from_secs(5);

fn at(ms: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_millis(ms)
}

/// One batch: which source it comes from, how many of its next lines, and
/// how long after the previous batch it arrives.
#[derive(Debug, Clone)]
struct Step {
    source: usize,
    take: usize,
    after_ms: u64,
}

/// Per-source lines in time order (gaps of 0..3 s, ties allowed), and an
/// interleaving of them into batches.
fn input() -> impl Strategy<Value = (Vec<Vec<u64>>, Vec<Step>)> {
    let sources = prop::collection::vec(prop::collection::vec(0u64..3_000, 1..40), 1..5);
    sources.prop_flat_map(|gaps| {
        let times: Vec<Vec<u64>> = gaps
            .iter()
            .map(|g| {
                g.iter()
                    .scan(0u64, |t, d| {
                        *t += d;
                        Some(*t)
                    })
                    .collect()
            })
            .collect();
        let n = times.len();
        let steps = prop::collection::vec(
            (0..n, 1usize..8, 0u64..3_000).prop_map(|(source, take, after_ms)| Step {
                source,
                take,
                after_ms,
            }),
            1..120,
        );
        (Just(times), steps)
    })
}

/// Feed the batches to `push(batch, arrival)`; what is left of each source
/// after the steps arrives last.
fn feed(times: &[Vec<u64>], steps: &[Step], mut push: impl FnMut(Vec<LogLine>, SystemTime)) {
    let mut next = vec![0usize; times.len()];
    let mut now = 0u64;
    let send = |source: usize, take: usize, next: &mut Vec<usize>| {
        let from = next[source];
        let to = (from + take).min(times[source].len());
        next[source] = to;
        (from..to)
            .map(|i| LogLine {
                source: format!("s{source}"),
                time: at(times[source][i]),
                level: Level::Info,
                text: format!("s{source}#{i}"),
            })
            .collect::<Vec<LogLine>>()
    };
    for step in steps {
        now += step.after_ms;
        let batch = send(step.source, step.take, &mut next);
        if !batch.is_empty() {
            push(batch, at(now));
        }
    }
    for source in 0..times.len() {
        let batch = send(source, usize::MAX / 2, &mut next);
        if !batch.is_empty() {
            push(batch, at(now));
        }
    }
}

/// The checks every output must pass. `late` are the texts placed late.
fn check(out: &[LogLine], times: &[Vec<u64>], late: &[String], arrival_span: u64) {
    let total: usize = times.iter().map(Vec::len).sum();
    assert_eq!(out.len(), total, "nothing lost, nothing twice");
    // Each source keeps its own order.
    for (s, own_times) in times.iter().enumerate() {
        let own: Vec<&str> = out
            .iter()
            .filter(|l| l.source == format!("s{s}"))
            .map(|l| l.text.as_str())
            .collect();
        let want: Vec<String> = (0..own_times.len()).map(|i| format!("s{s}#{i}")).collect();
        assert_eq!(own, want, "source s{s} in its own order");
    }
    // Leaving out the late lines, everything is in time order.
    let in_time: Vec<SystemTime> = out
        .iter()
        .filter(|l| !late.contains(&l.text))
        .map(|l| l.time)
        .collect();
    assert!(
        in_time.windows(2).all(|w| w[0] <= w[1]),
        "out of order: {:?}",
        out.iter().map(|l| &l.text).collect::<Vec<_>>()
    );
    // Batches that all arrive within the window are merged whole.
    if arrival_span < WINDOW.as_millis() as u64 {
        assert!(late.is_empty());
    }
}

fn span(steps: &[Step]) -> u64 {
    steps.iter().map(|s| s.after_ms).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The console's buffer: the merge as the Logs pane keeps it.
    #[test]
    fn the_console_buffer_is_in_time_order_within_the_window((times, steps) in input()) {
        let mut order = LogOrder::new(WINDOW);
        let mut lines = VecDeque::new();
        let mut late = Vec::new();
        feed(&times, &steps, |batch, now| {
            let placed = order.admit(batch, now);
            late.extend(placed.iter().filter(|p| p.late).map(|p| p.line.text.clone()));
            LogOrder::merge_into(&mut lines, placed);
        });
        prop_assert_eq!(order.late(), late.len() as u64);
        let out: Vec<LogLine> = lines.into_iter().collect();
        check(&out, &times, &late, span(&steps));
    }

    /// `opsdeck logs`: lines printed once final, in the same order as the
    /// console's buffer.
    #[test]
    fn the_printed_stream_matches_the_console_order((times, steps) in input()) {
        let mut stream = OrderedStream::new(WINDOW);
        let mut view = LogsView {
            order: LogOrder::new(WINDOW),
            ..LogsView::default()
        };
        let mut printed = Vec::new();
        feed(&times, &steps, |batch, now| {
            view.push(batch.clone(), now);
            stream.push(batch, now);
            printed.extend(stream.ready(now));
        });
        printed.extend(stream.finish());
        let buffer: Vec<LogLine> = view.lines.iter().cloned().collect();
        prop_assert_eq!(&printed, &buffer);
        prop_assert_eq!(stream.late(), view.order.late());
    }
}

#[test]
fn a_paused_view_keeps_its_bottom_line_when_older_lines_come_in() {
    let mut v = LogsView::default();
    let line = |src: &str, ms: u64| LogLine {
        source: src.into(),
        time: at(ms),
        level: Level::Info,
        text: format!("{src}@{ms}"),
    };
    v.push((0..10).map(|i| line("a", i * 1000)).collect(), at(10_000));
    v.scroll(-3);
    let shown = v.current().map(|l| l.text.clone());
    assert_eq!(shown.as_deref(), Some("a@6000"));
    // Two older lines of another source land above the bottom line, one below.
    v.push(
        vec![line("b", 500), line("b", 2500), line("b", 9500)],
        at(11_000),
    );
    assert_eq!(v.current().map(|l| l.text.clone()), shown);
    assert_eq!(v.unseen, 3);
    let texts: Vec<&str> = v.lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(&texts[..4], ["a@0", "b@500", "a@1000", "a@2000"]);
}
