package subscribers

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// unmarshal decodes one line of the log into e. Most of the time of a
// read goes to decoding, so the lines as encode writes them (no escapes,
// no nulls, the fields in any order) are decoded by a small parser that
// does only that; anything else goes to encoding/json, whose result the
// parser's always equals (FuzzUnmarshal checks).
func (in *interner) unmarshal(line []byte, e *Event) error {
	p := parser{b: line, in: in}
	if p.event(e) {
		return nil
	}
	*e = Event{}
	return json.Unmarshal(line, e)
}

// An interner shares the strings that repeat from event to event (kinds,
// sources, lists) within a chunk of the log, so that a read allocates them
// once.
type interner struct {
	strs  map[string]string
	lists map[string][]string // by the array's JSON
}

func (in *interner) str(b []byte) string {
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(in.strs) < 1024 {
		in.strs[s] = s
	}
	return s
}

// parser reads the JSON of an event as encode writes it; its methods
// return false at anything else.
type parser struct {
	b  []byte
	i  int
	in *interner
}

func (p *parser) ws() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

// next skips blanks and reports whether c is next, taking it.
func (p *parser) next(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// raw reads a string with no escapes, of valid UTF-8, and returns its
// bytes.
func (p *parser) raw() ([]byte, bool) {
	if !p.next('"') {
		return nil, false
	}
	start := p.i
	for ; p.i < len(p.b); p.i++ {
		switch c := p.b[p.i]; {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			return s, utf8.Valid(s)
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

func (p *parser) str(s *string) bool {
	b, ok := p.raw()
	*s = string(b)
	return ok
}

func (p *parser) shared(s *string) bool {
	b, ok := p.raw()
	*s = p.in.str(b)
	return ok
}

func (p *parser) time(t *time.Time) bool {
	b, ok := p.raw()
	if !ok {
		return false
	}
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil || v.Format(time.RFC3339Nano) != string(b) {
		return false // not as encoding/json writes a time: let it judge
	}
	*t = v
	return true
}

// object reads an object, calling field with each key to read its value.
func (p *parser) object(field func(key string) bool) bool {
	if !p.next('{') {
		return false
	}
	if p.next('}') {
		return true
	}
	for {
		key, ok := p.raw()
		if !ok || !p.next(':') || !field(string(key)) {
			return false
		}
		if p.next('}') {
			return true
		}
		if !p.next(',') {
			return false
		}
	}
}

func (p *parser) lists(l *[]string) bool {
	p.ws()
	start := p.i
	if !p.next('[') {
		return false
	}
	var out []string
	if !p.next(']') {
		for {
			var s string
			if !p.shared(&s) {
				return false
			}
			out = append(out, s)
			if p.next(']') {
				break
			}
			if !p.next(',') {
				return false
			}
		}
	}
	if out == nil {
		out = []string{}
	}
	whole := p.b[start:p.i]
	if shared, ok := p.in.lists[string(whole)]; ok {
		*l = shared
		return true
	}
	if len(p.in.lists) < 256 {
		p.in.lists[string(whole)] = out
	}
	*l = out
	return true
}

func (p *parser) event(e *Event) bool {
	ok := p.object(func(key string) bool {
		switch key {
		case "id":
			return p.str(&e.ID)
		case "time":
			return p.time(&e.Time)
		case "kind":
			var k string
			ok := p.shared(&k)
			e.Kind = Kind(k)
			return ok
		case "key":
			return p.str(&e.Key)
		case "email":
			return p.str(&e.Email)
		case "name":
			return p.str(&e.Name)
		case "lists":
			return p.lists(&e.Lists)
		case "source":
			return p.shared(&e.Source)
		case "ref":
			return p.str(&e.Ref)
		case "consent":
			if e.Consent == nil {
				e.Consent = &Consent{}
			}
			c := e.Consent
			return p.object(func(key string) bool {
				switch key {
				case "text":
					return p.shared(&c.Text)
				case "page":
					return p.shared(&c.Page)
				case "ip":
					return p.str(&c.IP)
				case "at":
					return p.time(&c.At)
				}
				return false
			})
		case "bounce":
			if e.Bounce == nil {
				e.Bounce = &Bounce{}
			}
			b := e.Bounce
			return p.object(func(key string) bool {
				switch key {
				case "hard":
					p.ws()
					switch {
					case len(p.b)-p.i >= 4 && string(p.b[p.i:p.i+4]) == "true":
						b.Hard, p.i = true, p.i+4
					case len(p.b)-p.i >= 5 && string(p.b[p.i:p.i+5]) == "false":
						b.Hard, p.i = false, p.i+5
					default:
						return false
					}
					return true
				case "diagnostic":
					return p.str(&b.Diagnostic)
				}
				return false
			})
		}
		return false
	})
	p.ws()
	return ok && p.i == len(p.b)
}
