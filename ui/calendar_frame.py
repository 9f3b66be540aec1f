"""A small script inside the calendar's frame: its height follows the calendar, and its
markup is mended where FullCalendar's falls short of accessibility rules.

streamlit-calendar 1.4.0 sets its iframe's height once, at mount, and takes no script of
ours. Every session of a busy day is shown (no "+N more"), so the calendar's height
changes with the month and the view; the frame would cut it off. The frame is served by
this site (same origin), so a `st.components.v2` component, which runs in the page itself,
puts a script into it: a ResizeObserver sends Streamlit the new height (the component
library's own `setFrameHeight` message), and a MutationObserver mends each redraw:

- A month's day cell is named by its day number alone ("1") while it shows the day's
  sessions too: a speech-input user saying "click EFAW" finds nothing (axe
  `label-content-name-mismatch`). The cell is left to be named by what it shows.
- The arrow icons carry `role="img"` without a name (axe `role-img-alt`): the buttons
  already have one ("Previous month"), so the icons are hidden from assistive technology.

The component's `data` is the same bytes on every run (as in ui/push.py: new data re-runs
its module without the old cleanup); each frame is helped once.
"""

from __future__ import annotations

import streamlit as st

from ui import keys as K

CALENDAR_FRAME = "iframe[title='streamlit_calendar.calendar']"

IN_FRAME = r"""
(() => {
  const fit = () => {
    const cal = document.querySelector('.fc');
    if (!cal || !window.frameElement) return;
    const height = Math.ceil(cal.getBoundingClientRect().bottom + window.scrollY) + 8;
    // against the frame's real height: the component sets its own once, after this may have run
    if (Math.abs(height - window.frameElement.getBoundingClientRect().height) < 2) return;
    window.parent.postMessage({ isStreamlitMessage: true, type: 'streamlit:setFrameHeight', height }, '*');
  };
  const mend = () => {
    document.querySelectorAll('.fc-icon[role=img]').forEach((icon) => {
      icon.removeAttribute('role');
      icon.setAttribute('aria-hidden', 'true');
    });
    document.querySelectorAll('[role=gridcell][aria-labelledby]').forEach((cell) => {
      cell.removeAttribute('aria-labelledby');
    });
  };
  let queued = false;
  const onChange = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; mend(); fit(); });
  };
  new MutationObserver(onChange).observe(document.body, { childList: true, subtree: true, attributes: true,
                                                         attributeFilter: ['role', 'aria-labelledby'] });
  new ResizeObserver(onChange).observe(document.body);
  window.addEventListener('resize', onChange);  // the frame itself resized (by the component)
  onChange();
})();
"""

JS = """
export default function ({ data }) {
  const help = (frame) => {
    const doc = frame.contentDocument;
    if (!doc || !doc.body || doc.getElementById('availability-frame-helper')) return;
    if (!doc.querySelector('#root')) return;  // about:blank before the component's page loads
    const script = doc.createElement('script');
    script.id = 'availability-frame-helper';
    script.textContent = data.script;
    doc.head.appendChild(script);
  };
  const scan = () => document.querySelectorAll(data.selector).forEach((frame) => {
    if (!frame.dataset.helped) {
      frame.dataset.helped = '1';
      frame.addEventListener('load', () => help(frame));
    }
    help(frame);
  });
  const watcher = new MutationObserver(scan);
  watcher.observe(document.body, { childList: true, subtree: true });
  scan();
  return () => watcher.disconnect();
}
"""

_helper = st.components.v2.component("availability_calendar_frame", html="<span></span>", js=JS)


def help_calendar_frame() -> None:
    """Mount the helper (hidden by the app's CSS) on a page that shows the calendar."""
    _helper(key=K.CALENDAR_FRAME_HELPER, data={"selector": CALENDAR_FRAME, "script": IN_FRAME})
