"""Charts of the statistics and the evaluation: Vega-Lite specifications built with Altair, in the
reader's language, turned into PNG or SVG by vl-convert (no browser, no network). A suppressed
count is drawn as no bar and labelled "<N"; every label says what it counts."""

from __future__ import annotations

from pathlib import Path

from tiptriage import i18n
from tiptriage.i18n import _
from tiptriage.insight.evaluation import AT_RISK_YEARS
from tiptriage.insight.scope import suppressed

WIDTH = 640
COLOURS = {"warned": "#1f77b4", "searched": "#d62728", "no_action": "#7f7f7f"}


def _value(v) -> float:
    return 0 if suppressed(v) or v is None else v


def _label(v) -> str:
    return str(v) if suppressed(v) else i18n.number(v)


def _bars(rows: list[dict], category: str, title: str, axis: str, count_title: str, colour: str = "#2b6cb0"):
    """Horizontal bars with their count (or "<N") at the end."""
    import altair as alt

    data = alt.Data(values=[{"category": r[category], "n": _value(r["n"]), "label": _label(r["n"])} for r in rows])
    order = [r[category] for r in rows]
    base = alt.Chart(data).encode(y=alt.Y("category:N", sort=order, title=axis))
    bars = base.mark_bar(color=colour).encode(x=alt.X("n:Q", title=count_title))
    text = base.mark_text(align="left", dx=4).encode(x="n:Q", text="label:N")
    return (bars + text).properties(title=title, width=WIDTH, height=max(60, 22 * len(rows)))


def stats_chart(doc: dict):
    """Four panels: reports per month by source, outcomes, backlog by age, reports by age band."""
    import altair as alt

    months = [{"month": r["month"], "source": r["source"], "n": _value(r["reports"])} for r in doc["per_month"]]
    hidden = sum(suppressed(r["reports"]) for r in doc["per_month"])
    subtitle = _("Counts below {n} are shown as <{n} and not drawn ({cells} cells).", n=doc["min_cell"],
                 cells=hidden)
    per_month = alt.Chart(alt.Data(values=months)).mark_bar().encode(
        x=alt.X("month:O", title=_("Month received")),
        y=alt.Y("n:Q", stack="zero", title=_("Reports")),
        color=alt.Color("source:N", title=_("Source"))).properties(
        title=alt.TitleParams(_("Reports per month by source"), subtitle=subtitle), width=WIDTH, height=200)
    outcomes = _bars([{"c": _(o["outcome"]), "n": o["reports"]} for o in doc["outcomes"]], "c",
                     _("Outcomes (newest recommendation)"), _("Outcome"), _("Reports"))
    backlog = _bars([{"c": _(b["band"]), "n": b["reports"]} for b in doc["backlog"]["ages"]], "c",
                    _("Backlog by waiting time (open: {n})", n=_label(doc["backlog"]["open"])), _("Waiting"),
                    _("Reports"), colour="#dd6b20")
    share = doc["age_bands"]["youth_share"]
    youth = _("share under 18: {share}", share=f"{share:.0%}" if share is not None else _("not shown"))
    ages = _bars([{"c": _(b["band"]), "n": b["reports"]} for b in doc["age_bands"]["bands"]], "c",
                 _("Reports by age at the incident ({youth})", youth=youth), _("Age band"), _("Reports"),
                 colour="#38a169")
    return _readable(alt.vconcat(per_month, outcomes, backlog, ages))


def evaluation_chart(doc: dict):
    """Kaplan–Meier curves with 95% bands per group, and the numbers at risk beneath."""
    import altair as alt

    points, risk = [], []
    for g in doc["groups"]:
        name = _(g["group"])
        for p in g.get("curve", []):
            points.append({"group": name, "years": p["years"], "s": p["survival"], "low": p["low"], "high": p["high"]})
        for r in g["at_risk"]:
            risk.append({"group": name, "years": r["years"], "label": _label(r["subjects"])})
    names = [_(g["group"]) for g in doc["groups"]]
    scale = alt.Scale(domain=names, range=[COLOURS[g["group"]] for g in doc["groups"]])
    colour = alt.Color("group:N", title=_("Group"), sort=names, scale=scale)
    years = alt.Scale(domain=[-0.1, 2.6], nice=False)
    ticks = alt.Axis(values=list(AT_RISK_YEARS))
    base = alt.Chart(alt.Data(values=points)).encode(
        x=alt.X("years:Q", title=_("Years since the intervention"), scale=years, axis=ticks))
    band = base.mark_area(opacity=0.18, interpolate="step-after").encode(
        y=alt.Y("low:Q", title=_("Share not reported again"), scale=alt.Scale(domain=[0, 1])), y2="high:Q",
        color=colour)
    line = base.mark_line(interpolate="step-after").encode(y="s:Q", color=colour)
    curves = (band + line).properties(
        width=WIDTH, height=300,
        title=alt.TitleParams(_("Time to the next report (Kaplan–Meier, 95% band)"),
                              subtitle=_("Until {until}; read the caveats before drawing conclusions.",
                                         until=doc["until"])))
    table = alt.Chart(alt.Data(values=risk)).mark_text().encode(
        x=alt.X("years:Q", title=_("Numbers at risk"), scale=years, axis=ticks),
        y=alt.Y("group:N", sort=names, title=None), text="label:N")
    return _readable(alt.vconcat(curves, table.properties(width=WIDTH, height=80)))


def _readable(chart):
    """Type large enough to read on a screen and on paper."""
    return (chart.configure_view(stroke=None).configure_axis(labelFontSize=13, titleFontSize=14)
            .configure_legend(labelFontSize=13, titleFontSize=14).configure_text(fontSize=13)
            .configure_title(fontSize=17, subtitleFontSize=13, anchor="start"))


def _locales() -> dict:
    """Numbers and dates on the axes as the reader writes them (1.200 in Dutch, 1,200 in English)."""
    return {"format_locale": "nl-NL", "time_format_locale": "nl-NL"} if i18n.lang() == "nl" else \
        {"format_locale": "en-GB", "time_format_locale": "en-GB"}


def svg(chart) -> str:
    import vl_convert as vlc

    return vlc.vegalite_to_svg(chart.to_dict(), **_locales())


def write(chart, path: Path) -> None:
    """PNG (twice the size, for print) or SVG, by the file's suffix."""
    import vl_convert as vlc

    if path.suffix.lower() == ".svg":
        path.write_text(svg(chart), encoding="utf-8")
    elif path.suffix.lower() == ".png":
        path.write_bytes(vlc.vegalite_to_png(chart.to_dict(), scale=2, **_locales()))
    else:
        raise ValueError(path.suffix)
