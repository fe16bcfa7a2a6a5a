// Package calendar answers "is the office open, and how many callbacks fit in
// this time slot?" for a callback service: office hours, capacity tables and
// the slot (bucket) grid of _request_time_bucket. It is pure: no I/O, no
// clock. Every function takes the instants it needs, so the same answers come
// out in tests and in production, and the scheduler, the booking check and
// the availability query cannot disagree.
//
// # Office hours
//
// ParseOfficeHours reads an office-hours service's options:
//
//	_timezone          = Europe/Paris            (IANA name; default UTC)
//	_bh_regular1       = Mon-Fri 9:00-17:00      (days may wrap: Sat-Mon; lists: Mon,Wed;
//	                                              hours may wrap: 19:00-7:00; 24:00 as an end;
//	                                              several ranges: 9:00-12:00,13:00-17:00)
//	_bh_add1           = 2026-12-24 09:00-12:00  (or 12-24 ...: every year)
//	_holiday1          = 2026-12-25              (or 12-25; optional HH:mm-HH:mm closes part of the day)
//	_bh_drop1          = same as _holiday
//	_effective_dates1  = 2026-01-01 to 2026-06-30 (or 2026-01-01: from that day on)
//
// Precedence, strongest first: outside every _effective_dates range the
// office is closed (when none is configured it is always in effect); an
// _bh_add opens, even on a holiday, because it is the more specific
// instruction ("closed on the 24th, except 9 to 12"); a holiday or drop
// closes; otherwise the regular hours apply. An office with no rules at all
// is never open; a nil *OfficeHours is always open.
//
// A range that wraps past midnight belongs to the day it starts on:
// "Fri 19:00-7:00" is open from Friday 19:00 to Saturday 07:00, and a holiday
// on that Saturday closes the early hours too, because a holiday closes its
// whole local date (00:00 to 24:00). "9:00-9:00" is refused as ambiguous;
// write 0:00-24:00 for a whole day. A yearly 02-29 only matches leap years.
//
// # Daylight saving time
//
// Hours are local wall-clock times: a 09:00-18:00 office opens at 09:00 local
// on both sides of every transition, so its UTC times move by an hour. A
// local time that occurs twice (the clock is turned back) means its first
// occurrence. A local time that does not exist (the clock jumps forward over
// it) means the instant of the jump, i.e. the first instant after the gap: in
// Europe/Paris on the last Sunday of March, 02:30 means 03:00 CEST. These
// rules keep a range of wall times a range of instants, so nothing breaks on
// transition days; only ranges with a boundary inside the changed hour get
// shorter or longer.
//
// # Capacity
//
// ParseCapacity reads a capacity service's options:
//
//	_timezone     = Europe/Paris
//	_capacity     = [Mon, Tue, Wed, Thu, Fri, Sat, Sun]   weekdays in use
//	_capacity_1   = {"1":{"0900":10,"1000":5}}            1 = Monday ... 7 = Sunday
//	_capacity_add = {"2026-12-24":{"0900":5},"12-31":{}}  this project's format
//	_max_capacity = 50                                    optional bound
//
// The outer key of _capacity_N repeats the weekday number N. A key HHMM gives
// the count of every slot starting from that local time for one hour (the
// original defines capacity "per hourly slot"), or until the next key when
// that comes sooner; a slot starting at a time no key covers holds 0, as does
// every slot of a weekday that is not listed in _capacity or has no table.
// The count applies to each slot: with 5-minute slots, "0900":10 means 10
// callbacks at 09:00, 10 at 09:05 ... 120 in the hour. A slot's capacity is
// read at its start.
//
// _capacity_add (the original's format is not published) maps a date,
// yyyy-MM-dd or MM-dd for every year, to a table in the same HHMM form that
// replaces the weekday's table for that whole date; {} closes the date to
// bookings. A full date beats a yearly one. _max_capacity caps every count
// (and a count above it is reported as an OptionError).
//
// # Slots (buckets)
//
// Slots follow the local clock of the office: a boundary is every instant at
// which the local clock shows a multiple of the bucket length since midnight
// (all valid lengths divide a day), plus every UTC offset change. Hourly slots
// therefore start at local full hours also in Asia/Kolkata (+05:30, i.e. at
// hh:30 UTC) and Asia/Kathmandu (+05:45). On a transition day the slots keep
// their local labels and the one the change cuts is shorter or longer in real
// time: in Europe/Paris in March the 120-minute slot 00:00-02:00 runs to 03:00
// CEST (still two real hours) and the next one is 03:00-04:00 CEST (one real
// hour); in October the hour 02:00-03:00 happens twice and gives two slots,
// one per occurrence. Slots never overlap and never leave a gap.
//
// A slot is offered when its start lies in an open period; a slot cut by an
// opening or closing time that is not on a slot boundary counts as open only
// if the office is open at its start. Operators should put office hours on
// slot boundaries.
//
// Times exchanged with clients use FormatUTC (yyyy-MM-ddTHH:mm:ss.SSSZ).
//
// Zone data comes from the system or from an embedded copy: the command that
// ships this package should import time/tzdata so a container without
// /usr/share/zoneinfo still knows Europe/Paris.
package calendar
