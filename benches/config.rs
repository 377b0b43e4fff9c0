//! Configuration checking scales with the file: the time per key stays flat
//! as a theme's unknown slots, a keymap's bindings or a theme `inherits`
//! chain grow (it was quadratic: 100k unknown slots took 55 s). Compare the
//! times across sizes: a linear cost doubles when the size doubles.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use opsdeck::keymap::KeymapLibrary;
use opsdeck::theme::ThemeLibrary;

const SIZES: [usize; 3] = [5_000, 10_000, 20_000];

fn theme_with_unknown_slots(n: usize) -> String {
    let mut s = String::from("inherits = \"default\"\n");
    for i in 0..n {
        s.push_str(&format!("\"not.a.slot{i}\" = \"red\"\n"));
    }
    s
}

fn keymap_with_keys(n: usize) -> String {
    let mut s = String::from("[global]\nq = \"quit\"\n\"?\" = \"help\"\n[logs]\n");
    for i in 0..n {
        s.push_str(&format!("\"ctrl-f{i}\" = \"scrol_down\"\n"));
    }
    s
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("theme unknown slots");
    g.sample_size(10);
    for n in SIZES {
        let text = theme_with_unknown_slots(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let mut lib = ThemeLibrary::new(None);
                lib.add_user("big", text, "themes/big.toml");
                lib.user_problems().len()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("keymap bindings");
    g.sample_size(10);
    for n in SIZES {
        let text = keymap_with_keys(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &text, |b, text| {
            b.iter(|| {
                let mut lib = KeymapLibrary::new(None);
                lib.add_user("big", text, "keymaps/big.toml");
                lib.problems().len()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("theme inherits chain");
    g.sample_size(10);
    for n in [500usize, 1_000, 2_000] {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let mut lib = ThemeLibrary::new(None);
                for i in 0..n {
                    let text = if i + 1 < n {
                        format!("inherits = \"t{}\"\n", i + 1)
                    } else {
                        "inherits = \"default\"\n".to_string()
                    };
                    lib.add_user(&format!("t{i}"), &text, &format!("themes/t{i}.toml"));
                }
                lib.user_problems().len()
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
