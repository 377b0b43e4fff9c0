//! The detail view over the body: breadcrumbs in the title, the content
//! (already sanitised and wrapped by `core::detail::lines`), matches of the
//! search highlighted, key hints at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::dialog::{dialog, key_of};
use crate::action::{Action, Mode};
use crate::core::State;
use crate::core::{LineStyle, detail_lines, detail_matches};
use crate::sanitize;
use crate::theme::{Slot, Theme};

pub fn render(frame: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let Some(top) = state.detail.top() else {
        return;
    };
    let width = usize::from(area.width.saturating_sub(2)).max(1);
    let rows = usize::from(area.height.saturating_sub(2)).max(1);
    let shown = detail_lines(top, width);
    let found = detail_matches(top, &shown);
    let current = top.current.and_then(|i| found.get(i)).copied();
    let mut title = state.detail.breadcrumbs();
    if top.loading && top.detail.is_some() {
        title.push_str(" · refreshing…");
    }
    let key = |a| key_of(state, Mode::Detail, a);
    let mut hint = format!(" {} back", key(Action::Cancel));
    if top.yaml || top.detail.as_ref().is_some_and(|d| d.yaml.is_some()) {
        hint.push_str(&format!(
            " · {} {}",
            key(Action::ToggleYaml),
            if top.yaml { "describe" } else { "yaml" }
        ));
    }
    hint.push_str(&format!(" · {} search", key(Action::Search)));
    if !top.search.is_empty() {
        hint.push_str(&format!(
            " ({} of {}) {}/{}",
            top.current.map_or(0, |i| i + 1),
            found.len(),
            key(Action::NextMatch),
            key(Action::PrevMatch)
        ));
    }
    if top.detail.as_ref().is_some_and(|d| !d.links.is_empty()) && !top.yaml {
        hint.push_str(&format!(
            " · {} next related · {} open it",
            key(Action::NextLink),
            key(Action::Submit)
        ));
    }
    hint.push_str(&format!(" · {} refresh ", key(Action::Refresh)));
    let block = dialog(theme, &title, false)
        .title_bottom(Line::styled(sanitize::line(&hint), theme.style(Slot::Hint)));
    let text: Vec<Line> = shown
        .iter()
        .enumerate()
        .skip(top.scroll)
        .take(rows)
        .map(|(i, l)| {
            let slot = match l.style {
                LineStyle::Heading => Slot::TitleFocused,
                LineStyle::Plain => Slot::Dialog,
                LineStyle::Ok => Slot::HealthOk,
                LineStyle::Warn => Slot::HealthWarn,
                LineStyle::Bad => Slot::HealthCritical,
                LineStyle::Link(true) => Slot::Selection,
                LineStyle::Link(false) | LineStyle::Note => Slot::Hint,
            };
            let mut style = theme.style(slot);
            if Some(i) == current || found.contains(&i) {
                style = theme.style(Slot::SearchMatch);
            }
            if l.key_len > 0 && l.key_len <= l.text.len() && l.text.is_char_boundary(l.key_len) {
                let (k, v) = l.text.split_at(l.key_len);
                Line::from(vec![
                    Span::styled(k.to_string(), theme.style(Slot::Hint)),
                    Span::styled(v.to_string(), style),
                ])
            } else {
                Line::styled(l.text.clone(), style)
            }
        })
        .collect();
    frame.render_widget(Clear, area);
    frame.render_widget(Paragraph::new(text).block(block), area);
}
