package subscribers

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// A Status is where a subscriber stands on one list.
type Status string

// The statuses of a subscription.
const (
	Pending Status = "pending"      // subscribed, not yet confirmed
	Active  Status = "confirmed"    // confirmed, or imported: receives the list
	Left    Status = "unsubscribed" // unsubscribed
)

// A Reason is why an address is suppressed: it receives nothing, on any
// list, whatever an import says.
type Reason string

// The reasons for suppressing an address.
const (
	HardBounce  Reason = "bounce"       // a hard bounce
	SoftBounces Reason = "soft-bounces" // SoftLimit soft bounces within SoftWindow
	Complaint   Reason = "complaint"    // a spam complaint
	Erasure     Reason = "erased"       // forgotten at the subscriber's request
)

// Soft bounces suppress an address once SoftLimit of them fall within
// SoftWindow.
const (
	SoftLimit  = 3
	SoftWindow = 30 * 24 * time.Hour
)

// A Subscription is a subscriber's standing on one list.
type Subscription struct {
	List   string
	Status Status
	// Since is when the subscription came to its status.
	Since time.Time
	// Ref is the ID of the event that started the subscription (a
	// Subscribed or Imported one): what confirmation and unsubscribe
	// tokens are bound to.
	Ref string
	// Started is when that event happened.
	Started time.Time
}

// A Subscriber is what the log says of one address.
type Subscriber struct {
	Key   string
	Email string // "" once erased
	Name  string
	// Lists are the subscriber's subscriptions, by list ID.
	Lists []Subscription
	// Suppressed is why the address receives nothing; "" if it is not
	// suppressed. SuppressedSince is when it was suppressed.
	Suppressed      Reason
	SuppressedSince time.Time
	// Erased is set once the subscriber was forgotten (and not since
	// subscribed again).
	Erased bool

	soft []softBounce // the soft bounces within SoftWindow of the last
}

type softBounce struct {
	at time.Time
	id string
}

// On returns the subscriber's subscription to list, if any.
func (s *Subscriber) On(list string) (Subscription, bool) {
	i, ok := slices.BinarySearchFunc(s.Lists, list, func(x Subscription, l string) int { return cmp.Compare(x.List, l) })
	if !ok {
		return Subscription{}, false
	}
	return s.Lists[i], true
}

// entry returns the subscriber's subscription to list, added if missing
// (with no Status).
func (s *Subscriber) entry(list string) *Subscription {
	i, ok := slices.BinarySearchFunc(s.Lists, list, func(x Subscription, l string) int { return cmp.Compare(x.List, l) })
	if !ok {
		s.Lists = slices.Insert(s.Lists, i, Subscription{List: list})
	}
	return &s.Lists[i]
}

// Changes counts what happened to a list in a period.
type Changes struct {
	Subscribed   int // new pending subscriptions
	Confirmed    int // confirmations and imports
	Unsubscribed int
	Suppressed   int // subscribers on the list whose address was suppressed
}

// State is the log folded: every subscriber's standing. Feed it the log's
// events in order with Apply (Load does); its methods read it.
type State struct {
	subs  map[string]*Subscriber
	names map[string]string // list IDs, interned
	// days counts each list's changes by day (Unix days), for Stats.
	days map[string]map[int64]*Changes
}

// NewState returns an empty state.
func NewState() *State {
	return &State{subs: map[string]*Subscriber{}, names: map[string]string{}, days: map[string]map[int64]*Changes{}}
}

// Fold folds the events, in order, into a new State.
func Fold(events []Event) *State {
	st := NewState()
	for i := range events {
		st.Apply(&events[i])
	}
	return st
}

// list returns the interned list ID.
func (st *State) list(id string) string {
	if s, ok := st.names[id]; ok {
		return s
	}
	st.names[id] = id
	return id
}

// count records a change to list at t.
func (st *State) count(list string, t time.Time, f func(*Changes)) {
	byDay := st.days[list]
	if byDay == nil {
		byDay = map[int64]*Changes{}
		st.days[list] = byDay
	}
	d := t.Unix() / 86400
	c := byDay[d]
	if c == nil {
		c = &Changes{}
		byDay[d] = c
	}
	f(c)
}

// Apply folds one event into the state. Events are applied in the order
// the store keeps them, and each is idempotent: an event appended twice
// (a retried append) changes the state once. A subscription's status
// changes only by an event no older than its last change, so an event
// delivered late cannot undo a later one. Apply ignores an event for a
// list it does not apply to (a confirmation of a subscription since left,
// an import for an address already on the list, suppressed or erased).
func (st *State) Apply(e *Event) {
	s := st.subs[e.Key]
	if s == nil {
		s = &Subscriber{Key: e.Key}
		st.subs[e.Key] = s
	}
	switch e.Kind {
	case Subscribed:
		s.Email, s.Name = Normalize(e.Email), e.Name
		for _, l := range e.Lists {
			x := s.entry(st.list(l))
			// A sign-up to a list the subscriber receives changes nothing,
			// unless their address is suppressed: then it is a new opt-in.
			if x.Status != "" && ((x.Status == Active && s.Suppressed == "") || x.Ref == e.ID || e.Time.Before(x.Since)) {
				continue
			}
			*x = Subscription{List: x.List, Status: Pending, Since: e.Time, Ref: e.ID, Started: e.Time}
			st.count(x.List, e.Time, func(c *Changes) { c.Subscribed++ })
		}
	case Confirmed:
		for i := range s.Lists {
			x := &s.Lists[i]
			if x.Status != Pending || x.Ref != e.Ref || e.Time.Before(x.Since) || (len(e.Lists) > 0 && !slices.Contains(e.Lists, x.List)) {
				continue
			}
			x.Status, x.Since = Active, e.Time
			st.count(x.List, e.Time, func(c *Changes) { c.Confirmed++ })
			if s.Suppressed != "" && x.Started.After(s.SuppressedSince) {
				// A new double opt-in, begun after the suppression, is the
				// subscriber's own wish: it lifts it.
				s.Suppressed, s.SuppressedSince, s.Erased, s.soft = "", time.Time{}, false, nil
			}
		}
	case Imported:
		if s.Suppressed != "" || s.Erased {
			return
		}
		if s.Email == "" {
			s.Email = Normalize(e.Email)
		}
		if s.Name == "" {
			s.Name = e.Name
		}
		for _, l := range e.Lists {
			x := s.entry(st.list(l))
			if x.Status != "" {
				continue // an import never overrides what the log knows
			}
			*x = Subscription{List: x.List, Status: Active, Since: e.Time, Ref: e.ID, Started: e.Time}
			st.count(x.List, e.Time, func(c *Changes) { c.Confirmed++ })
		}
	case Unsubscribed:
		if s.Erased {
			return
		}
		leave := func(x *Subscription) {
			if x.Status == Left || (e.Ref != "" && x.Ref != e.Ref) || (x.Status != "" && e.Time.Before(x.Since)) {
				return
			}
			x.Status, x.Since = Left, e.Time
			st.count(x.List, e.Time, func(c *Changes) { c.Unsubscribed++ })
		}
		if len(e.Lists) == 0 {
			for i := range s.Lists {
				leave(&s.Lists[i])
			}
		}
		for _, l := range e.Lists {
			if _, ok := s.On(l); ok || e.Ref == "" {
				// An unsubscribe from a list the subscriber is not on is
				// kept too, so that an import cannot add them to it.
				leave(s.entry(st.list(l)))
			}
		}
	case Bounced:
		if e.Bounce == nil || e.Bounce.Hard {
			st.suppress(s, HardBounce, e.Time)
			return
		}
		for _, b := range s.soft {
			if b.id == e.ID {
				return
			}
		}
		s.soft = append(s.soft, softBounce{e.Time, e.ID})
		s.soft = slices.DeleteFunc(s.soft, func(b softBounce) bool { return b.at.Before(e.Time.Add(-SoftWindow)) })
		if len(s.soft) >= SoftLimit {
			st.suppress(s, SoftBounces, e.Time)
		}
	case Complained:
		st.suppress(s, Complaint, e.Time)
	case Erased:
		st.suppress(s, Erasure, e.Time)
		s.Email, s.Name, s.Lists, s.soft, s.Erased = "", "", nil, nil, true
	}
}

// suppress suppresses the subscriber's address for reason at t, unless
// it already is (an erasure still records itself as the reason).
func (st *State) suppress(s *Subscriber, reason Reason, t time.Time) {
	if s.Suppressed != "" {
		if reason == Erasure {
			s.Suppressed = Erasure
		}
		return
	}
	s.Suppressed, s.SuppressedSince, s.soft = reason, t, nil
	for _, x := range s.Lists {
		if x.Status != Left {
			st.count(x.List, t, func(c *Changes) { c.Suppressed++ })
		}
	}
}

// Len is the number of subscribers the state knows, erased ones included.
func (st *State) Len() int { return len(st.subs) }

// Subscriber returns the subscriber with the key, a copy.
func (st *State) Subscriber(key string) (Subscriber, bool) {
	s, ok := st.subs[key]
	if !ok {
		return Subscriber{}, false
	}
	c := *s
	c.Lists, c.soft = slices.Clone(s.Lists), nil
	return c, true
}

// All returns every subscriber the log knows, erased ones included (by
// key only), ordered by address, then key.
func (st *State) All() []Subscriber {
	out := make([]Subscriber, 0, len(st.subs))
	for key := range st.subs {
		s, _ := st.Subscriber(key)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Subscriber) int {
		return cmp.Or(strings.Compare(a.Email, b.Email), strings.Compare(a.Key, b.Key))
	})
	return out
}

// Suppressed returns why the address is suppressed, or "" if it is not.
func (st *State) Suppressed(key string) Reason {
	if s, ok := st.subs[key]; ok {
		return s.Suppressed
	}
	return ""
}

// A Recipient is a subscriber a list's digest goes to.
type Recipient struct {
	Key   string
	Email string
	Name  string
	// Ref is the ID of the event that started the subscription; an
	// unsubscribe token is bound to it (see UnsubscribeToken).
	Ref string
}

// Recipients returns the subscribers who receive list: confirmed, not
// suppressed, not erased, sorted by address.
func (st *State) Recipients(list string) []Recipient {
	var out []Recipient
	for _, s := range st.subs {
		if s.Suppressed != "" || s.Erased || s.Email == "" {
			continue
		}
		if x, ok := s.On(list); ok && x.Status == Active {
			out = append(out, Recipient{Key: s.Key, Email: s.Email, Name: s.Name, Ref: x.Ref})
		}
	}
	slices.SortFunc(out, func(a, b Recipient) int { return cmp.Or(cmp.Compare(a.Email, b.Email), cmp.Compare(a.Key, b.Key)) })
	return out
}

// ListStats are a list's counts. Each subscriber on the list counts once:
// as unsubscribed if they left it, else as suppressed if their address is,
// else as confirmed or pending.
type ListStats struct {
	List         string
	Confirmed    int
	Pending      int
	Unsubscribed int
	Suppressed   int
	// Recent are the changes of the StatsDays days up to now.
	Recent Changes
}

// StatsDays is how far back Stats counts changes.
const StatsDays = 30

// Stats returns the counts of every list the log names, by list ID, with
// the changes of the StatsDays days up to now.
func (st *State) Stats(now time.Time) []ListStats {
	by := map[string]*ListStats{}
	get := func(l string) *ListStats {
		if by[l] == nil {
			by[l] = &ListStats{List: l}
		}
		return by[l]
	}
	for _, s := range st.subs {
		for _, x := range s.Lists {
			ls := get(x.List)
			switch {
			case x.Status == Left:
				ls.Unsubscribed++
			case s.Suppressed != "":
				ls.Suppressed++
			case x.Status == Active:
				ls.Confirmed++
			default:
				ls.Pending++
			}
		}
	}
	today := now.Unix() / 86400
	for l, days := range st.days {
		r := &get(l).Recent
		for d, c := range days {
			if d > today-StatsDays && d <= today {
				r.Subscribed += c.Subscribed
				r.Confirmed += c.Confirmed
				r.Unsubscribed += c.Unsubscribed
				r.Suppressed += c.Suppressed
			}
		}
	}
	out := make([]ListStats, 0, len(by))
	for _, ls := range by {
		out = append(out, *ls)
	}
	slices.SortFunc(out, func(a, b ListStats) int { return cmp.Compare(a.List, b.List) })
	return out
}
