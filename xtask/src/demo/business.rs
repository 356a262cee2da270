//! Hoa Sen Spa, the demo business, simulated day by day on a fixed calendar: it opened on
//! 2016-01-04 and has lived every day since, so every fact of a given day is the same on
//! every machine and on every run. The tenant sees only what happened from the day it
//! "adopted the CRM" (the window's first day) up to the moment of the seed; what came before
//! reaches it as opening balances and as customers' earlier orders.
//!
//! Pure: no clock, no I/O, and no floating-point function whose last bit could differ between
//! machines (`ln`, `exp`, `powf`): spreads come from quantile tables and every draw from a
//! hash of what is drawn (stream, day, index), never from a sequence shared across streams.
//! The one input besides the calendar is the incident month (a bad month for response
//! times), chosen when the demo tenant is created and kept with it.
use kpi_core::period::{CivilDate, TimeZone};
use serde_json::{json, Map, Value};

use super::words::*;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const TZ: TimeZone = TimeZone::DEFAULT;
const OFFSET: i64 = TZ.offset_minutes as i64 * MIN;
const CURRENCY: &str = "VND";

/// The day the spa opened: the simulation starts here, whatever the window.
pub const FOUNDED: (i32, u8, u8) = (2016, 1, 4);

/// Tết (the lunar new year's first day), 2016–2036. Outside these years there is no Tết
/// season in the data.
const TET: [(i32, u8, u8); 21] = [
    (2016, 2, 8),
    (2017, 1, 28),
    (2018, 2, 16),
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
    (2033, 1, 31),
    (2034, 2, 19),
    (2035, 2, 8),
    (2036, 1, 28),
];

/// How long a new customer's orders count as the revenue of the campaign that brought them.
const ATTRIBUTION_DAYS: i64 = 90;

/// The longest a lead waits for the first visit, in days.
const LEAD_DAYS: i64 = 12;

/// Opening hours, every day (the business hours sent with `PATCH /v1/settings`).
pub const OPEN_MIN: i64 = 9 * 60;
/// Closing time, minutes after midnight.
pub const CLOSE_MIN: i64 = 21 * 60;

/// Exp(1) quantiles at the midpoints of 32 equal slices (lifespans, gaps).
const EXP_Q: [f64; 32] = [
    0.0157, 0.048, 0.0813, 0.1158, 0.1515, 0.1886, 0.2271, 0.2671, 0.3087, 0.3522, 0.3977, 0.4453,
    0.4953, 0.548, 0.6035, 0.6624, 0.7249, 0.7916, 0.863, 0.94, 1.0234, 1.1144, 1.2144, 1.3257,
    1.4508, 1.5939, 1.761, 1.9617, 2.213, 2.5494, 3.0603, 4.1589,
];
/// Log-normal (σ 0.75) quantiles over the median, same slices (waiting times).
const LOGN_Q: [f64; 32] = [
    0.199, 0.285, 0.345, 0.398, 0.446, 0.492, 0.536, 0.581, 0.625, 0.67, 0.716, 0.763, 0.812,
    0.863, 0.915, 0.971, 1.03, 1.092, 1.159, 1.232, 1.31, 1.396, 1.492, 1.599, 1.722, 1.864, 2.034,
    2.244, 2.515, 2.896, 3.515, 5.03,
];

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Draws for one thing (a customer's birth, a ticket, a day's ads), seeded by what it is.
struct Rng(u64);

impl Rng {
    fn new(stream: u64, a: i64, b: i64) -> Rng {
        Rng(mix(mix(mix(stream) ^ a as u64) ^ b as u64))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn between(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1).max(1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// A draw from a 32-slice quantile table, interpolated.
    fn quantile(&mut self, table: &[f64; 32]) -> f64 {
        let x = self.unit() * 31.0;
        let i = x as usize;
        let f = x - i as f64;
        table[i] + (table[(i + 1).min(31)] - table[i]) * f
    }

    /// A whole number of events around `mean` (±30 %, then a fair rounding).
    fn count(&mut self, mean: f64) -> usize {
        (mean * (0.7 + 0.6 * self.unit()) + self.unit()) as usize
    }
}

// Streams: one per kind of draw.
const S_BIRTH: u64 = 1;
const S_VISIT: u64 = 2;
const S_LOSS: u64 = 3;
const S_TICKET: u64 = 4;
const S_DEAL: u64 = 5;
const S_MARKETING: u64 = 6;
const S_LEAD: u64 = 7;
const S_RENEW: u64 = 8;
const S_ACTIVITY: u64 = 9;
const S_DAY: u64 = 10;

/// An instant as the CRM writes it: RFC 3339 in the spa's zone (`2026-02-14T10:05:00+07:00`).
pub fn stamp(ms: i64) -> String {
    let local = ms + OFFSET;
    let date = CivilDate::from_days_since_epoch(local.div_euclid(DAY))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "1970-01-01".into());
    let t = local.rem_euclid(DAY);
    let sign = if OFFSET < 0 { '-' } else { '+' };
    let off = OFFSET.abs() / MIN;
    format!(
        "{date}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        t / HOUR,
        t % HOUR / MIN,
        t % MIN / 1000,
        off / 60,
        off % 60
    )
}

/// The instant `minute` minutes after local midnight of `day` (days since 1970-01-01).
fn at(day: i64, minute: i64) -> i64 {
    day * DAY + minute * MIN - OFFSET
}

/// The local day (days since 1970-01-01) of an instant.
pub fn day_of(ms: i64) -> i64 {
    (ms + OFFSET).div_euclid(DAY)
}

fn date(day: i64) -> CivilDate {
    CivilDate::from_days_since_epoch(day).unwrap_or(CivilDate {
        year: 1970,
        month: 1,
        day: 1,
    })
}

fn days(y: i32, m: u8, d: u8) -> i64 {
    CivilDate::new(y, m, d)
        .map(CivilDate::days_since_epoch)
        .unwrap_or(0)
}

/// What a day is like: its date, its distance to Tết, whether it is in the incident month.
struct Day {
    n: i64,
    date: CivilDate,
    weekday: u8,
    /// Days from the nearest Tết (negative before it), within 60 days.
    tet: Option<i64>,
    incident: bool,
}

impl Day {
    fn new(n: i64, incident: (i32, u8)) -> Day {
        let date = date(n);
        let tet = TET
            .iter()
            .map(|&(y, m, d)| n - days(y, m, d))
            .find(|t| t.abs() <= 60);
        Day {
            n,
            date,
            weekday: date.weekday(),
            tet,
            incident: (date.year, date.month) == incident,
        }
    }

    /// The spa closes from Tết's eve to its third day.
    fn closed(&self) -> bool {
        matches!(self.tet, Some(-1..=3))
    }

    /// The three weeks before Tết: gifts, vouchers and a full house.
    fn tet_rush(&self) -> bool {
        matches!(self.tet, Some(-21..=-2))
    }

    /// Visits and sales against an average day: the week, Tết, women's days, summer, growth.
    fn footfall(&self) -> f64 {
        if self.closed() {
            return 0.0;
        }
        let week = [0.85, 0.85, 0.9, 0.95, 1.05, 1.3, 1.2][self.weekday as usize];
        let season = match (self.tet, self.date.month, self.date.day) {
            (Some(-21..=-2), _, _) => 1.5,
            (Some(4..=10), _, _) => 0.7,
            (_, 3, 1..=8) | (_, 2, 26..=29) | (_, 10, 14..=20) => 1.3,
            (_, 6..=8, _) => 1.1,
            _ => 1.0,
        };
        week * season * self.growth()
    }

    /// The chain grew from one spa to three: +12 % a year, linear, from its opening.
    fn growth(&self) -> f64 {
        let years = (self.n - days(FOUNDED.0, FOUNDED.1, FOUNDED.2)) as f64 / 365.0;
        0.25 + 0.075 * years
    }

    /// The seasonal campaign running today, if any, and its daily budget (₫).
    fn campaign(&self) -> Option<(String, i64)> {
        let (y, m, d) = (self.date.year, self.date.month, self.date.day);
        match (self.tet, m, d) {
            (Some(-35..=-2), _, _) => {
                // The campaign is named for the lunar year it greets.
                let year = if m >= 11 { y + 1 } else { y };
                Some((format!("Tết {year}"), 1_600_000))
            }
            (_, 2, 22..=29) | (_, 3, 1..=8) => Some((format!("8/3 {y}"), 1_000_000)),
            (_, 6, _) | (_, 7, 1..=15) => Some((format!("Hè {y}"), 600_000)),
            (_, 10, 6..=20) => Some((format!("20/10 {y}"), 900_000)),
            (_, 11, 20..=30) => Some((format!("Black Friday {y}"), 800_000)),
            _ => None,
        }
    }
}

/// A customer (a member of the spa's loyalty list).
struct Customer {
    seq: u32,
    born: i64,
    lost: i64,
    /// The campaign that brought them: their orders of the first [`ATTRIBUTION_DAYS`] count
    /// as its revenue.
    campaign: Option<String>,
    consultant: usize,
    /// Membership plan index, when subscribed.
    plan: Option<usize>,
    plan_since: i64,
    upgrade_on: Option<i64>,
    /// The last two orders (ms).
    last: Option<i64>,
    prev: Option<i64>,
    /// The customer's last upsell order.
    last_upsell: Option<i64>,
}

impl Customer {
    fn id(&self) -> String {
        format!("KH{:05}", self.seq)
    }
}

/// The facts to send, in the order the API must see them.
#[derive(Default)]
pub struct Facts {
    /// Survey answers for `POST /v1/responses/import`.
    pub answers: Vec<Value>,
    /// Ticket calls for `POST /v1/tickets`, in three rounds: as first handled; reopened
    /// (`resolved_at: null`); handled again. Each round holds a ticket at most once.
    pub tickets: [Vec<Value>; 3],
    /// CRM events for `POST /v1/events`.
    pub events: Vec<Value>,
    /// `PUT /v1/opening-balances`: the customers, members and MRR of the window's first day.
    pub opening: Value,
}

/// The demo's identity: the first day the tenant sees, and its incident month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Story {
    /// Days since 1970-01-01 of the window's first day.
    pub first_day: i64,
    /// (year, month) of the bad month for response times.
    pub incident: (i32, u8),
}

impl Story {
    /// A year ending today: the window opens 364 days before `today`, and the incident is the
    /// month before `today`'s, so that a month view compares against it and a quarter or
    /// year view shows it as a spike.
    pub fn ending(today: i64) -> Story {
        let d = date(today);
        let incident = if d.month == 1 {
            (d.year - 1, 12)
        } else {
            (d.year, d.month - 1)
        };
        Story {
            first_day: today - 364,
            incident,
        }
    }
}

/// The facts with instants in `(after, until]` (ms), from the window's first day on.
pub fn facts(story: &Story, after: i64, until: i64) -> Facts {
    // A customer's lead comes up to [`LEAD_DAYS`] before the first visit: the days after
    // `until` are lived too, for the leads they had by then.
    simulate(story, after, until, day_of(until) + LEAD_DAYS)
}

/// The opening balances of the window's first day.
pub fn opening(story: &Story) -> Value {
    simulate(story, i64::MIN, i64::MIN, story.first_day).opening
}

/// Lives every day from the opening to `last`, keeping the facts in `(after, until]`.
fn simulate(story: &Story, after: i64, until: i64, last: i64) -> Facts {
    let mut sim = Sim {
        story: *story,
        start: at(story.first_day, 0),
        after,
        until,
        out: Facts::default(),
        alive: Vec::new(),
        customers: 0,
        orders: 0,
        tickets: Vec::new(),
    };
    let founded = days(FOUNDED.0, FOUNDED.1, FOUNDED.2);
    for n in founded..=last {
        if n == story.first_day {
            sim.out.opening = sim.opening();
        }
        sim.day(&Day::new(n, story.incident));
    }
    sim.flush_tickets();
    sim.out
}

/// A call the CRM makes about a ticket: when, in which round, and the fields it sends.
type Call = (i64, usize, Map<String, Value>);

struct Sim {
    story: Story,
    /// The window's first instant.
    start: i64,
    after: i64,
    until: i64,
    out: Facts,
    alive: Vec<Customer>,
    customers: u32,
    orders: u32,
    /// Every ticket's calls, gathered then collapsed per round.
    tickets: Vec<(String, Vec<Call>)>,
}

impl Sim {
    /// Whether a fact at `ms` is sent in this seed.
    fn shown(&self, ms: i64) -> bool {
        ms >= self.start && ms > self.after && ms <= self.until
    }

    fn event(&mut self, ms: i64, v: Value) {
        if self.shown(ms) {
            let mut v = v;
            v["at"] = json!(stamp(ms));
            self.out.events.push(v);
        }
    }

    fn answer(&mut self, ms: i64, v: Value) {
        if self.shown(ms) {
            let mut v = v;
            v["at"] = json!(stamp(ms));
            self.out.answers.push(v);
        }
    }

    /// Opening balances: the customers alive and the memberships running as the window opens.
    fn opening(&self) -> Value {
        let members = self.alive.iter().filter_map(|c| c.plan);
        let (subs, mrr) = members.fold((0i64, 0i64), |(n, s), p| (n + 1, s + PLANS[p].0));
        json!({"as_of": date(self.story.first_day).to_string(), "customers": self.alive.len(),
               "mrr": mrr, "subscriptions": subs, "currency": CURRENCY})
    }

    fn day(&mut self, d: &Day) {
        self.losses(d);
        self.memberships(d);
        let births = self.births(d);
        self.repeat_orders(d, births);
        if d.n >= self.story.first_day {
            self.leads(d);
            self.tickets(d);
            self.deals(d);
            self.marketing(d);
            self.activity(d);
        }
    }

    /// Customers who stop coming: `customer.lost`, and their membership ends.
    fn losses(&mut self, d: &Day) {
        let mut i = 0;
        while i < self.alive.len() {
            if self.alive[i].lost > d.n {
                i += 1;
                continue;
            }
            let c = self.alive.swap_remove(i);
            let mut r = Rng::new(S_LOSS, c.seq as i64, 0);
            let ms = at(d.n, r.between(8 * 60, 22 * 60));
            let id = c.id();
            self.event(
                ms,
                json!({"id": format!("lost-{id}"), "type": "customer.lost", "customer": id}),
            );
            if let Some(p) = c.plan {
                self.event(
                    ms,
                    json!({"id": format!("sub-{id}-end"), "type": "subscription.changed",
                           "customer": id, "mrr": 0, "previous_mrr": PLANS[p].0, "currency": CURRENCY}),
                );
            }
        }
    }

    /// Membership anniversaries (renewal due, renewed or lapsed) and upgrades.
    fn memberships(&mut self, d: &Day) {
        let mut out = Vec::new();
        for c in self.alive.iter_mut() {
            let Some(p) = c.plan else { continue };
            let age = d.n - c.plan_since;
            let upgrade = c.upgrade_on == Some(d.n) && p + 1 < PLANS.len();
            if !upgrade && (age <= 0 || age % 365 != 0) {
                continue;
            }
            let id = c.id();
            if upgrade {
                c.plan = Some(p + 1);
                let ms = at(d.n, 11 * 60 + (c.seq as i64 % 420));
                out.push((ms, json!({"id": format!("sub-{id}-up"), "type": "subscription.changed",
                    "customer": id, "mrr": PLANS[p + 1].0, "previous_mrr": PLANS[p].0, "currency": CURRENCY})));
                continue;
            }
            let year = age / 365;
            let mut r = Rng::new(S_RENEW, c.seq as i64, year);
            let due = at(d.n, r.between(8 * 60, 10 * 60));
            out.push((
                due,
                json!({"id": format!("due-{id}-{year}"), "type": "renewal.due", "customer": id}),
            ));
            if r.chance(0.86) {
                let done = due + r.between(0, 4 * 24) * HOUR;
                out.push((
                    done,
                    json!({"id": format!("renew-{id}-{year}"), "type": "renewal.done", "customer": id}),
                ));
            } else {
                // Not renewed: the membership ends that day (the customer may still come).
                let ms = due + HOUR;
                out.push((
                    ms,
                    json!({"id": format!("sub-{id}-lapse"), "type": "subscription.changed",
                    "customer": id, "mrr": 0, "previous_mrr": PLANS[p].0, "currency": CURRENCY}),
                ));
                c.plan = None;
            }
        }
        for (ms, v) in out {
            self.event(ms, v);
        }
    }

    /// New customers: the lead that brought them, `customer.won`, the first order, and for
    /// some a membership. Returns how many were born.
    fn births(&mut self, d: &Day) -> usize {
        let mut r = Rng::new(S_DAY, d.n, 0);
        let n = r.count(1.45 * d.footfall());
        for i in 0..n {
            self.customers += 1;
            let seq = self.customers;
            let mut r = Rng::new(S_BIRTH, d.n, i as i64);
            let lifespan = (r.quantile(&EXP_Q) * 1500.0) as i64;
            let plan = r.chance(0.3).then(|| r.weighted(&PLANS.map(|(_, w)| w)));
            let mut c = Customer {
                seq,
                born: d.n,
                lost: d.n + lifespan.clamp(30, 4000),
                campaign: None,
                consultant: r.below(CONSULTANTS.len()),
                plan,
                plan_since: d.n,
                upgrade_on: plan
                    .filter(|_| r.chance(0.2))
                    .map(|_| d.n + r.between(60, 300)),
                last: None,
                prev: None,
                last_upsell: None,
            };
            let id = c.id();
            // The lead, a few days before.
            let s = r.weighted(&SOURCES.map(|s| s.1));
            let (source, always_on, channel) = (SOURCES[s].0, SOURCES[s].2, SOURCES[s].3);
            let lead_day = d.n - [0, 0, 1, 1, 2, 3, 5, 8, LEAD_DAYS][r.below(9)];
            let campaign = match Day::new(lead_day, self.story.incident).campaign() {
                Some((name, _)) if r.chance(0.5) => Some(name),
                _ => always_on.map(String::from),
            };
            let lead_ms = at(lead_day, r.between(7 * 60, 23 * 60));
            let lead = self.lead_json(
                format!("lead-{id}"),
                source,
                campaign.as_deref(),
                lead_ms,
                &mut r,
            );
            self.event(lead_ms, lead);
            let visit = at(d.n, visit_minute(&mut r));
            let mut won = json!({"id": format!("won-{id}"), "type": "customer.won", "customer": id,
                                 "source": source, "channel": channel});
            if let Some(c) = &campaign {
                won["campaign"] = json!(c);
            }
            self.event(visit, won);
            c.campaign = campaign.clone();
            self.order(d, &mut c, visit, campaign, &mut r);
            if let Some(p) = c.plan {
                self.event(
                    visit + 20 * MIN,
                    json!({"id": format!("sub-{id}-start"), "type": "subscription.changed",
                           "customer": id, "mrr": PLANS[p].0, "currency": CURRENCY}),
                );
            }
            self.alive.push(c);
        }
        n
    }

    fn lead_json(
        &self,
        id: String,
        source: &str,
        campaign: Option<&str>,
        ms: i64,
        r: &mut Rng,
    ) -> Value {
        let mut v = json!({"id": id, "type": "lead.created", "source": source});
        if let Some(c) = campaign {
            v["campaign"] = json!(c);
        }
        // The first call back: minutes in opening hours, the next morning for a late lead.
        let local_min = (ms + OFFSET).rem_euclid(DAY) / MIN;
        let wait = (r.quantile(&LOGN_Q) * 25.0 * MIN as f64) as i64;
        let contact = if local_min < OPEN_MIN {
            at(day_of(ms), OPEN_MIN) + wait
        } else if local_min >= CLOSE_MIN {
            at(day_of(ms) + 1, OPEN_MIN) + wait
        } else {
            ms + wait
        };
        v["first_contact_at"] = json!(stamp(contact));
        v
    }

    /// Leads that did not become customers (three of four).
    fn leads(&mut self, d: &Day) {
        let mut r = Rng::new(S_DAY, d.n, 1);
        let n = r.count(4.3 * d.footfall().max(0.3));
        for i in 0..n {
            let mut r = Rng::new(S_LEAD, d.n, i as i64);
            let s = r.weighted(&SOURCES.map(|s| s.1));
            let campaign = match d.campaign() {
                Some((name, _)) if r.chance(0.5) => Some(name),
                _ => SOURCES[s].2.map(String::from),
            };
            let ms = at(d.n, r.between(7 * 60, 23 * 60));
            let v = self.lead_json(
                format!("lead-{}-{i}", date(d.n)),
                SOURCES[s].0,
                campaign.as_deref(),
                ms,
                &mut r,
            );
            self.event(ms, v);
        }
    }

    /// Members coming back: about one visit in two months, more at weekends and before Tết.
    fn repeat_orders(&mut self, d: &Day, born_today: usize) {
        let regulars = self.alive.len().saturating_sub(born_today);
        if regulars == 0 {
            return;
        }
        let mut r = Rng::new(S_DAY, d.n, 2);
        let n = r.count(regulars as f64 / 60.0 * d.footfall() / d.growth().max(0.1) * 0.9);
        let promo = d.campaign().map(|(name, _)| name);
        for i in 0..n {
            let mut r = Rng::new(S_VISIT, d.n, i as i64);
            let k = r.below(regulars);
            let mut c = std::mem::replace(&mut self.alive[k], placeholder());
            let ms = at(d.n, visit_minute(&mut r));
            let campaign = match promo.clone().filter(|_| r.chance(0.3)) {
                Some(p) => Some(p),
                None if d.n - c.born <= ATTRIBUTION_DAYS => c.campaign.clone(),
                None => None,
            };
            self.order(d, &mut c, ms, campaign, &mut r);
            self.alive[k] = c;
        }
    }

    /// An order (a visit), its cancellation now and then, and the survey some answer after.
    fn order(&mut self, d: &Day, c: &mut Customer, ms: i64, campaign: Option<String>, r: &mut Rng) {
        self.orders += 1;
        let oid = format!("DH{:06}", self.orders);
        let cid = c.id();
        let service = r.weighted(&SERVICES.map(|s| s.2));
        let mut amount = SERVICES[service].1 * (90 + r.between(0, 20)) / 100;
        if d.tet_rush() && r.chance(0.35) {
            // Tết gift vouchers.
            amount += [500_000, 1_000_000, 2_000_000][r.below(3)];
        }
        let upsell = c.last.is_some() && r.chance(0.08);
        if upsell {
            amount += r.between(25, 80) * 10_000;
        }
        let channel = ["phone", "zalo", "web", "other"][r.weighted(&[0.3, 0.35, 0.15, 0.2])];
        let agent = if r.chance(0.7) {
            CONSULTANTS[c.consultant]
        } else {
            *r.pick(&CONSULTANTS)
        };
        let mut v = json!({"id": oid, "type": "order.placed", "customer": cid,
            "amount": round_thousand(amount), "currency": CURRENCY, "channel": channel, "agent": agent});
        if let Some(p) = c.last {
            v["previous_order_at"] = json!(stamp(p));
            if let Some(p2) = c.prev {
                v["second_previous_order_at"] = json!(stamp(p2));
            }
        }
        if upsell {
            v["upsell"] = json!(true);
            if let Some(p) = c.last_upsell {
                v["previous_upsell_at"] = json!(stamp(p));
            }
            c.last_upsell = Some(ms);
        }
        if let Some(camp) = &campaign {
            v["campaign"] = json!(camp);
        }
        self.event(ms, v);
        c.prev = c.last;
        c.last = Some(ms);
        if r.chance(0.03) {
            let mut x = json!({"id": format!("huy-{oid}"), "type": "order.cancelled", "customer": cid,
                "amount": round_thousand(amount), "currency": CURRENCY, "channel": channel, "agent": agent});
            if let Some(camp) = &campaign {
                x["campaign"] = json!(camp);
            }
            self.event(ms + r.between(10, 300) * MIN, x);
        }
        if r.chance(0.3) {
            let answered = ms + r.between(60, 20 * 60) * MIN;
            let v = visit_answer(d, &oid, &cid, r);
            self.answer(answered, v);
        }
    }

    /// The day's tickets, each with its whole life: opened, answered, resolved, sometimes
    /// reopened and resolved again; a CES answer after some.
    fn tickets(&mut self, d: &Day) {
        let mut r = Rng::new(S_DAY, d.n, 3);
        // Online support stays open through Tết, with few customers writing.
        let load = if d.closed() {
            0.3
        } else {
            d.footfall() / d.growth().max(0.1)
        };
        let n = r.count(17.0 * load);
        let on_duty: Vec<usize> = (0..AGENTS.len())
            .filter(|a| (*a as u8 % 7) != d.weekday)
            .filter(|a| !(d.incident && ON_LEAVE.contains(a)))
            .collect();
        for i in 0..n {
            let mut r = Rng::new(S_TICKET, d.n, i as i64);
            let id = format!("T{}-{:02}", compact(d.date), i + 1);
            let channel = ["chat", "phone", "email"][r.weighted(&[0.5, 0.25, 0.25])];
            let agent_i = *r.pick(&on_duty);
            let (agent, speed, fcr) = AGENTS[agent_i];
            let opened = at(d.n, ticket_minute(channel, &mut r));
            let mut calls: Vec<Call> = Vec::new();
            let mut first =
                obj(json!({"channel": channel, "opened_at": stamp(opened), "agent": agent}));
            let mut tags = Vec::new();
            if r.chance(if d.incident { 0.12 } else { 0.05 }) {
                tags.push("complaint");
            }
            if r.chance(0.6) {
                tags.push(*r.pick(&TAGS));
            }
            first.insert("tags".into(), json!(tags));
            let abandoned = channel == "phone" && r.chance(if d.incident { 0.16 } else { 0.05 });
            let transferred = !abandoned && r.chance(if channel == "phone" { 0.1 } else { 0.05 });
            if abandoned {
                first.insert("abandoned".into(), json!(true));
            }
            if transferred {
                first.insert("transferred".into(), json!(true));
            }
            calls.push((opened, 0, first));
            // First response.
            let (median_min, incident_factor) = match channel {
                "chat" => (1.6, 11.0),
                "phone" => (0.3, 6.0),
                _ => (20.0, 6.0),
            };
            let mut factor = speed;
            if d.incident {
                factor *= incident_factor;
            } else if d.tet_rush() {
                factor *= 1.4;
            }
            let wait = (r.quantile(&LOGN_Q) * median_min * factor * MIN as f64) as i64;
            let start = queue_start(opened, &mut r);
            let responded = if abandoned {
                // A missed call, called back.
                opened + r.between(20, 120) * MIN
            } else {
                start + wait.max(10_000)
            };
            calls.push((
                responded,
                0,
                obj(json!({"first_response_at": stamp(responded)})),
            ));
            // Resolution.
            let mut contacts = 1;
            if abandoned || transferred {
                contacts += 1;
            }
            if !r.chance(fcr) {
                contacts += r.between(1, 2);
            }
            let work_min = match channel {
                "phone" if contacts == 1 => 4.0,
                "phone" => 240.0,
                "chat" => 18.0,
                _ => 240.0,
            } * if d.incident { 2.5 } else { 1.0 }
                * if transferred { 2.0 } else { 1.0 };
            let resolved = responded + (r.quantile(&LOGN_Q) * work_min * MIN as f64) as i64;
            calls.push((
                resolved,
                0,
                obj(json!({"resolved_at": stamp(resolved), "contacts": contacts})),
            ));
            let mut done = resolved;
            if r.chance(0.035) {
                // The customer writes again: the ticket is reopened, then resolved again.
                let reopened = resolved + r.between(1, 4) * DAY + r.between(0, 300) * MIN;
                contacts += 1;
                calls.push((
                    reopened,
                    1,
                    obj(json!({"resolved_at": null, "contacts": contacts})),
                ));
                done = reopened + r.between(60, 20 * 60) * MIN;
                calls.push((done, 2, obj(json!({"resolved_at": stamp(done)}))));
            }
            // Some customers rate how easy it was (CES, 1–7).
            if r.chance(0.3) {
                let slow = responded - start > channel_target(channel) * 3 || contacts > 2;
                let weights: &[f64] = if slow {
                    &[10.0, 15.0, 20.0, 20.0, 15.0, 12.0, 8.0]
                } else {
                    &[1.0, 2.0, 4.0, 8.0, 20.0, 32.0, 33.0]
                };
                let score = 1 + r.weighted(weights) as i64;
                let answer_channel = match channel {
                    "chat" => "zalo",
                    "phone" => "sms",
                    _ => "email",
                };
                let mut v = json!({"id": format!("ces-{id}"), "survey": "ces", "score": score,
                                   "channel": answer_channel, "ticket": id});
                if r.chance(if score <= 3 { 0.45 } else { 0.15 }) {
                    v["comment"] = json!(if score <= 3 {
                        *r.pick(&HARD)
                    } else {
                        *r.pick(&EASY)
                    });
                }
                self.answer(done + r.between(30, 20 * 60) * MIN, v);
            }
            self.tickets.push((id, calls));
        }
    }

    /// Collapses each ticket's calls in `(after, until]` into one call per round, the
    /// ticket's whole state at `until` for round 0 and 2, so that a replay or a later top-up
    /// never sends a partial ticket the worker has not seen.
    fn flush_tickets(&mut self) {
        for (id, calls) in std::mem::take(&mut self.tickets) {
            for round in 0..3 {
                let mine: Vec<&Call> = calls.iter().filter(|(_, r, _)| *r == round).collect();
                if !mine.iter().any(|(ms, _, _)| self.shown(*ms)) {
                    continue;
                }
                let mut v = Map::new();
                v.insert("id".into(), json!(id));
                for (ms, _, fields) in mine {
                    if *ms <= self.until {
                        v.extend(fields.clone());
                    }
                }
                self.out.tickets[round].push(Value::Object(v));
            }
        }
    }

    /// Deals through the pipeline (interested → consultation → trial → negotiation → closed): treatment
    /// packages sold after a consultation and a trial session, and corporate contracts
    /// (wellness days, Tết gift vouchers) that take longer and weigh more.
    fn deals(&mut self, d: &Day) {
        if d.closed() {
            return;
        }
        let mut r = Rng::new(S_DAY, d.n, 4);
        let packages = r.count(4.0 * d.footfall() / d.growth().max(0.1));
        let corporate_season = if matches!(d.tet, Some(-50..=-5)) {
            3.0
        } else {
            1.0
        };
        let corporate = if d.weekday >= 5 {
            0
        } else {
            r.count(0.2 * corporate_season)
        };
        for i in 0..packages + corporate {
            let mut r = Rng::new(S_DEAL, d.n, i as i64);
            let (deal, amount, days, advance) = if i < packages {
                let id = format!("LT{}-{}", compact(d.date), i + 1);
                (
                    id,
                    r.between(30, 300) * 100_000,
                    (0, 3),
                    [0.82, 0.72, 0.8, 0.75],
                )
            } else {
                let id = format!("HD{}-{}", compact(d.date), i - packages + 1);
                (
                    id,
                    r.between(15, 180) * 1_000_000,
                    (1, 9),
                    [0.72, 0.62, 0.66, 0.6],
                )
            };
            let agent = *r.pick(&CONSULTANTS);
            let source =
                ["referral", "website", "zalo", "event"][r.weighted(&[0.35, 0.3, 0.2, 0.15])];
            self.deal(&deal, amount, days, advance, agent, source, d, &mut r);
        }
    }

    /// One deal's life: a stage event per step, lost at a step it fails to pass, or won.
    #[allow(clippy::too_many_arguments)]
    fn deal(
        &mut self,
        deal: &str,
        mut amount: i64,
        days: (i64, i64),
        advance: [f64; 4],
        agent: &str,
        source: &str,
        d: &Day,
        r: &mut Rng,
    ) {
        let touched = at(d.n, r.between(8 * 60 + 30, 20 * 60));
        let mut ms = touched;
        // The spa's own pipeline, in Vietnamese: interested, consultation, trial session,
        // negotiation, closed (positions sent with each stage: the names are not the defaults).
        let stages = ["Quan tâm", "Tư vấn", "Trải nghiệm", "Thương lượng", "Chốt"];
        let mut counted: Option<i64> = None;
        for (k, stage) in stages.iter().enumerate() {
            if k > 0 {
                ms += r.between(days.0, days.1) * DAY + r.between(30, 300) * MIN;
                if !r.chance(advance[k - 1]) {
                    self.event(ms, json!({"id": format!("{deal}-lost"), "type": "deal.lost",
                        "deal": deal, "amount": amount, "previous_amount": counted,
                        "previous_stage": stages[k - 1], "currency": CURRENCY, "agent": agent, "source": source}));
                    return;
                }
            }
            if k == 3 {
                // A discount in the negotiation.
                amount = amount * (85 + r.between(0, 15)) / 100 / 100_000 * 100_000;
            }
            let mut v = json!({"id": format!("{deal}-{k}"), "type": "deal.stage", "deal": deal,
                "stage": stage, "order": k, "amount": amount, "currency": CURRENCY, "agent": agent, "source": source});
            if k > 0 {
                v["previous_stage"] = json!(stages[k - 1]);
                v["previous_amount"] = json!(counted);
            }
            self.event(ms, v);
            counted = Some(amount);
            if k == stages.len() - 1 {
                self.event(ms + 5 * MIN, json!({"id": format!("{deal}-closed"), "type": "deal.won",
                    "deal": deal, "amount": amount, "previous_amount": amount, "previous_stage": stage,
                    "first_touch_at": stamp(touched), "currency": CURRENCY, "agent": agent, "source": source}));
            }
        }
    }

    /// The day's marketing, as aggregated facts: spend, ads, e-mail, web, social, bookings.
    fn marketing(&mut self, d: &Day) {
        let mut r = Rng::new(S_MARKETING, d.n, 0);
        let noon = at(d.n, 12 * 60);
        let ds = date(d.n).to_string();
        let mut ads: Vec<(String, &str, i64, i64, f64)> = ALWAYS_ON
            .iter()
            .map(|&(c, ch, budget, imp, ctr)| (c.to_string(), ch, budget, imp, ctr))
            .collect();
        if let Some((name, budget)) = d.campaign() {
            ads.push((name, "web", budget, budget / 60, 0.021));
        }
        for (k, (campaign, channel, budget, impressions, ctr)) in ads.into_iter().enumerate() {
            let spend = budget * (85 + r.between(0, 30)) / 100 / 1000 * 1000;
            self.event(
                noon,
                json!({"id": format!("spend-{ds}-{k}"), "type": "spend", "amount": spend,
                "currency": CURRENCY, "channel": channel, "campaign": campaign}),
            );
            let shown = impressions * (80 + r.between(0, 40)) / 100;
            let clicks = ((shown as f64) * ctr * (0.8 + 0.4 * r.unit())) as i64;
            self.event(
                noon,
                json!({"id": format!("imp-{ds}-{k}"), "type": "ad.impression",
                "count": shown.max(1), "channel": channel, "campaign": campaign}),
            );
            self.event(
                noon,
                json!({"id": format!("click-{ds}-{k}"), "type": "ad.click",
                "count": clicks.max(1), "channel": channel, "campaign": campaign}),
            );
        }
        // The Thursday newsletter and, during a campaign, an SMS blast.
        if d.weekday == 3 {
            let delivered = (self.alive.len() as f64 * 0.82) as i64;
            let campaign = d
                .campaign()
                .map_or_else(|| "Bản tin tuần".to_string(), |c| c.0);
            let opened = (delivered as f64 * (0.30 + 0.1 * r.unit())) as i64;
            let clicked = (delivered as f64 * (0.035 + 0.03 * r.unit())) as i64;
            let unsub = (delivered as f64 * (0.002 + 0.002 * r.unit())) as i64;
            let at9 = at(d.n, 9 * 60);
            for (kind, n) in [
                ("email.delivered", delivered),
                ("email.opened", opened),
                ("email.clicked", clicked),
                ("email.unsubscribed", unsub),
            ] {
                if n > 0 {
                    self.event(
                        at9,
                        json!({"id": format!("{kind}-{ds}"), "type": kind, "count": n,
                        "channel": "email", "campaign": campaign}),
                    );
                }
            }
            self.event(
                at9,
                json!({"id": format!("spend-{ds}-email"), "type": "spend", "amount": 350_000,
                "currency": CURRENCY, "channel": "email", "campaign": campaign}),
            );
        }
        if let (Some((campaign, _)), 1) = (d.campaign(), d.weekday) {
            self.event(
                at(d.n, 10 * 60),
                json!({"id": format!("spend-{ds}-sms"), "type": "spend",
                "amount": 900_000, "currency": CURRENCY, "channel": "sms", "campaign": campaign}),
            );
        }
        // Loyalty vouchers and the call centre, monthly.
        if d.date.day == 1 {
            self.event(
                at(d.n, 8 * 60),
                json!({"id": format!("spend-{ds}-retention"), "type": "spend",
                "amount": 24_000_000, "currency": CURRENCY, "purpose": "retention"}),
            );
            self.event(
                at(d.n, 8 * 60),
                json!({"id": format!("spend-{ds}-support"), "type": "spend",
                "amount": 36_000_000, "currency": CURRENCY, "purpose": "support"}),
            );
        }
        let f = d.footfall().max(0.2);
        let visits = (420.0 * f * (0.85 + 0.3 * r.unit())) as i64;
        let landing = visits * 2 / 5;
        let sessions = visits * 9 / 10;
        let bounced = (sessions as f64 * (0.38 + 0.1 * r.unit())) as i64;
        let evening = at(d.n, 23 * 60 + 30);
        for (k, (kind, n, extra)) in [
            ("web.visit", visits - landing, json!({})),
            ("web.visit", landing, json!({"landing": true})),
            ("web.session", bounced, json!({"pages": 1})),
            ("web.session", sessions - bounced, json!({"pages": 3})),
            ("web.conversion", landing * 3 / 100, json!({})),
            ("social.reach", (5200.0 * f) as i64, json!({})),
            (
                "social.interaction",
                (5200.0 * f * (0.03 + 0.02 * r.unit())) as i64,
                json!({}),
            ),
            ("appointment.proposed", (26.0 * f) as i64, json!({})),
            (
                "appointment.accepted",
                (26.0 * f * (0.8 + 0.1 * r.unit())) as i64,
                json!({}),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            if n <= 0 {
                continue;
            }
            let mut v =
                json!({"id": format!("web-{ds}-{k}"), "type": kind, "count": n, "channel": "web"});
            if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            self.event(evening, v);
        }
    }

    /// The consultants' calls and meetings, one aggregated fact each a working day.
    fn activity(&mut self, d: &Day) {
        if d.closed() || d.weekday == 6 {
            return;
        }
        let ds = date(d.n).to_string();
        for (i, user) in CONSULTANTS.iter().enumerate() {
            let mut r = Rng::new(S_ACTIVITY, d.n, i as i64);
            let evening = at(d.n, 18 * 60 + i as i64);
            self.event(
                evening,
                json!({"id": format!("calls-{ds}-{i}"), "type": "crm.activity",
                "user": user, "kind": "call", "count": r.between(6, 16)}),
            );
            let meetings = r.between(0, 3);
            if meetings > 0 {
                self.event(
                    evening,
                    json!({"id": format!("meet-{ds}-{i}"), "type": "crm.activity",
                    "user": user, "kind": "meeting", "count": meetings}),
                );
            }
        }
    }
}

/// A stand-in while a customer is borrowed from the list.
fn placeholder() -> Customer {
    Customer {
        seq: 0,
        born: 0,
        lost: 0,
        campaign: None,
        consultant: 0,
        plan: None,
        plan_since: 0,
        upgrade_on: None,
        last: None,
        prev: None,
        last_upsell: None,
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn round_thousand(amount: i64) -> i64 {
    amount / 1000 * 1000
}

/// `YYMMDD`, for ids.
fn compact(d: CivilDate) -> String {
    format!("{:02}{:02}{:02}", d.year % 100, d.month, d.day)
}

/// When a visit starts: opening hours, busiest in the late afternoon.
fn visit_minute(r: &mut Rng) -> i64 {
    let hour = 9 + r.weighted(&[
        4.0, 6.0, 7.0, 6.0, 6.0, 8.0, 9.0, 10.0, 11.0, 11.0, 9.0, 5.0,
    ]);
    hour as i64 * 60 + r.between(0, 59)
}

/// When a ticket opens: chat late into the night, phone in opening hours, e-mail any time.
fn ticket_minute(channel: &str, r: &mut Rng) -> i64 {
    let weights: [f64; 24] = match channel {
        "chat" => [
            1.0, 0.5, 0.2, 0.1, 0.1, 0.2, 0.5, 1.5, 3.0, 5.0, 6.0, 6.0, 7.0, 6.0, 6.0, 6.0, 6.0,
            6.0, 6.0, 7.0, 7.0, 6.0, 4.0, 2.0,
        ],
        "phone" => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 6.0, 8.0, 8.0, 7.0, 6.0, 7.0, 8.0, 8.0,
            7.0, 6.0, 5.0, 4.0, 0.5, 0.0, 0.0,
        ],
        _ => [
            0.5, 0.3, 0.2, 0.2, 0.2, 0.3, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 4.0, 4.0, 5.0, 5.0, 5.0,
            4.0, 3.0, 3.0, 2.5, 2.0, 1.5, 1.0,
        ],
    };
    r.weighted(&weights) as i64 * 60 + r.between(0, 59)
}

/// When an agent can start on a ticket: at once in opening hours, else after the next opening
/// (with the night's queue ahead of it).
fn queue_start(opened: i64, r: &mut Rng) -> i64 {
    let local_min = (opened + OFFSET).rem_euclid(DAY) / MIN;
    let day = day_of(opened);
    if local_min < OPEN_MIN {
        at(day, OPEN_MIN) + r.between(0, 6) * MIN
    } else if local_min >= CLOSE_MIN {
        at(day + 1, OPEN_MIN) + r.between(0, 6) * MIN
    } else {
        opened
    }
}

/// The channel's first-response target (ms): kpi-core's service-level defaults.
fn channel_target(channel: &str) -> i64 {
    match channel {
        "chat" => 5 * MIN,
        "phone" => MIN,
        _ => HOUR,
    }
}

/// A survey answered after a visit: NPS, or CSAT on 5 or 10 points, over Zalo, SMS, e-mail
/// or the web, a comment in some.
fn visit_answer(d: &Day, order: &str, customer: &str, r: &mut Rng) -> Value {
    let kind = r.weighted(&[0.45, 0.4, 0.15]);
    let channel = ["zalo", "sms", "email", "web"][r.weighted(&[0.45, 0.2, 0.2, 0.15])];
    // Worse days move weight from the top of the scale to the bottom.
    let gloom = if d.incident {
        1.6
    } else if d.tet_rush() {
        1.5
    } else {
        1.0
    };
    let (survey, scale, score, sentiment) = match kind {
        0 => {
            let w = [1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 4.0, 9.0, 16.0, 25.0, 36.0];
            let s = r.weighted(&tilt(&w, 6, gloom)) as i64;
            (
                "nps",
                None,
                s,
                if s >= 9 {
                    2
                } else if s >= 7 {
                    1
                } else {
                    0
                },
            )
        }
        1 => {
            let w = [2.0, 4.0, 10.0, 34.0, 50.0];
            let s = 1 + r.weighted(&tilt(&w, 2, gloom)) as i64;
            (
                "csat",
                Some(5),
                s,
                if s >= 4 {
                    2
                } else if s == 3 {
                    1
                } else {
                    0
                },
            )
        }
        _ => {
            let w = [1.0, 1.0, 1.0, 2.0, 3.0, 4.0, 8.0, 20.0, 30.0, 30.0];
            let s = 1 + r.weighted(&tilt(&w, 4, gloom)) as i64;
            (
                "csat",
                Some(10),
                s,
                if s >= 8 {
                    2
                } else if s >= 6 {
                    1
                } else {
                    0
                },
            )
        }
    };
    let mut v = json!({"id": format!("a-{order}"), "survey": survey, "score": score,
                       "channel": channel, "respondent": customer});
    if let Some(s) = scale {
        v["scale"] = json!(s);
    }
    if r.chance([0.5, 0.2, 0.18][sentiment]) {
        let text = match sentiment {
            0 if d.incident && r.chance(0.6) => *r.pick(&INCIDENT),
            0 => *r.pick(&COMPLAINTS),
            1 if d.tet_rush() && r.chance(0.5) => TET_RUSH[r.below(2)],
            1 => *r.pick(&MIXED),
            _ if d.tet_rush() && r.chance(0.3) => TET_RUSH[2],
            _ => *r.pick(&PRAISE),
        };
        v["comment"] = json!(text);
    }
    v
}

/// Weights with those at or below `bottom` multiplied by `gloom`.
fn tilt(w: &[f64], bottom: usize, gloom: f64) -> Vec<f64> {
    w.iter()
        .enumerate()
        .map(|(i, x)| if i <= bottom { x * gloom } else { *x })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn story() -> Story {
        Story::ending(days(2026, 11, 29))
    }

    fn end_of(day: i64) -> i64 {
        at(day + 1, 0) - 1
    }

    #[test]
    fn the_same_calendar_gives_the_same_facts() {
        let s = story();
        let until = at(days(2026, 11, 29), 15 * 60);
        let a = facts(&s, i64::MIN, until);
        let b = facts(&s, i64::MIN, until);
        assert_eq!(a.events, b.events);
        assert_eq!(a.answers, b.answers);
        assert_eq!(a.tickets, b.tickets);
        assert_eq!(a.opening, b.opening);
    }

    #[test]
    fn a_top_up_sends_exactly_what_a_longer_seed_adds() {
        let s = story();
        let day1 = end_of(days(2026, 11, 20));
        let day2 = end_of(days(2026, 11, 29));
        let whole = facts(&s, i64::MIN, day2);
        let first = facts(&s, i64::MIN, day1);
        let later = facts(&s, day1, day2);
        // Events and answers: disjoint, and together the whole.
        let mut events = first.events.clone();
        events.extend(later.events.clone());
        assert_eq!(events.len(), whole.events.len());
        let ids = |v: &[Value]| {
            let mut ids: Vec<String> = v.iter().map(|e| e["id"].to_string()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&events), ids(&whole.events));
        let mut answers = first.answers.clone();
        answers.extend(later.answers.clone());
        assert_eq!(ids(&answers), ids(&whole.answers));
        // Every ticket ends in the same state.
        let mut state = std::collections::BTreeMap::<String, Map<String, Value>>::new();
        for f in [&first, &later] {
            for round in &f.tickets {
                for t in round {
                    let o = t.as_object().expect("object");
                    state
                        .entry(t["id"].to_string())
                        .or_default()
                        .extend(o.clone());
                }
            }
        }
        let mut whole_state = std::collections::BTreeMap::<String, Map<String, Value>>::new();
        for round in &whole.tickets {
            for t in round {
                let o = t.as_object().expect("object");
                whole_state
                    .entry(t["id"].to_string())
                    .or_default()
                    .extend(o.clone());
            }
        }
        assert_eq!(state, whole_state);
    }

    #[test]
    fn a_year_of_a_spa_chain() {
        let s = story();
        let f = facts(&s, i64::MIN, end_of(days(2026, 11, 29)));
        let of = |t: &str| f.events.iter().filter(|e| e["type"] == t).count();
        let tickets = f.tickets[0].len();
        eprintln!(
            "answers {}, tickets {tickets} (reopened {}), events {}: orders {}, leads {}, won {}, lost {}, deals {}; opening {}",
            f.answers.len(),
            f.tickets[1].len(),
            f.events.len(),
            of("order.placed"),
            of("lead.created"),
            of("customer.won"),
            of("customer.lost"),
            of("deal.won") + of("deal.lost"),
            f.opening
        );
        assert!((5_000..12_000).contains(&f.answers.len()));
        assert!((5_000..9_000).contains(&tickets));
        assert!(f.tickets[1].len() >= 100, "some tickets are reopened");
        assert_eq!(f.tickets[1].len(), f.tickets[2].len());
        for kind in [
            "order.placed",
            "lead.created",
            "customer.won",
            "customer.lost",
            "deal.stage",
            "deal.won",
            "deal.lost",
            "subscription.changed",
            "renewal.due",
            "renewal.done",
            "spend",
            "ad.impression",
            "ad.click",
            "email.delivered",
            "email.opened",
            "crm.activity",
            "order.cancelled",
        ] {
            assert!(of(kind) > 0, "no {kind}");
        }
        let customers = f.opening["customers"].as_i64().unwrap_or(0);
        assert!((1_200..3_500).contains(&customers), "{customers} customers");
        // Every kind of answer, with Vietnamese comments.
        for (survey, scale) in [
            ("nps", None),
            ("csat", Some(5)),
            ("csat", Some(10)),
            ("ces", None),
        ] {
            assert!(f
                .answers
                .iter()
                .any(|a| a["survey"] == survey && a.get("scale").and_then(Value::as_i64) == scale));
        }
        assert!(f
            .answers
            .iter()
            .any(|a| a["comment"].as_str().is_some_and(|c| c.contains('ờ'))));
        // Ids are unique.
        let mut ids: Vec<&str> = f.events.iter().filter_map(|e| e["id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut all: Vec<&str> = f.events.iter().filter_map(|e| e["id"].as_str()).collect();
        all.sort_unstable();
        let dups: Vec<_> = all
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .take(10)
            .collect();
        assert_eq!(ids.len(), f.events.len(), "{dups:?}");
    }

    #[test]
    fn the_incident_month_answers_slowly() {
        let s = story();
        assert_eq!(s.incident, (2026, 10));
        let f = facts(&s, i64::MIN, end_of(days(2026, 11, 29)));
        let median_wait = |month: u8| {
            let mut waits: Vec<i64> = f.tickets[0]
                .iter()
                .filter(|t| t["channel"] == "chat")
                .filter(|t| {
                    t["opened_at"]
                        .as_str()
                        .is_some_and(|s| s.starts_with(&format!("2026-{month:02}")))
                })
                .filter_map(|t| {
                    let o = kpi_core::period::parse_rfc3339(t["opened_at"].as_str()?).ok()?;
                    let r =
                        kpi_core::period::parse_rfc3339(t["first_response_at"].as_str()?).ok()?;
                    Some(r - o)
                })
                .collect();
            waits.sort_unstable();
            waits[waits.len() / 2]
        };
        assert!(median_wait(10) > 4 * median_wait(9));
        assert!(median_wait(10) > 4 * median_wait(11));
    }

    #[test]
    fn stamps_are_local_rfc3339() {
        assert_eq!(
            stamp(at(days(2026, 2, 17), 9 * 60 + 5)),
            "2026-02-17T09:05:00+07:00"
        );
        assert_eq!(
            day_of(at(days(2026, 2, 17), 23 * 60 + 59)),
            days(2026, 2, 17)
        );
    }
}
