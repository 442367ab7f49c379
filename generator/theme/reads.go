package theme

import (
	"html/template"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
)

// A Read is a place where a layout may read a field: the template and
// line of the read, and the chain of fields from the page's data that
// reached the value read, such as ".Note" for {{.Note.Content}} or for
// {{with .Note}}{{.Content}}{{end}}. From is "" where the value came
// another way: by a range, a method, a function or an index. Unknown
// marks a read of a field by that name on a value whose type the
// analysis cannot tell (an interface, a function returning any), which
// may be the field asked about.
type Read struct {
	Layout string
	// File is the theme file of the read, relative to the project; Line
	// its line.
	File    string
	Line    int
	From    string
	Unknown bool
}

// Reads returns every place where a layout, executed with a value of
// type data, may read the field named field of a value of type typ (or
// a pointer to it). It follows the templates statically, with the types
// of the values they reach: fields and methods, ranges, with and
// variables, the templates they call and partialCached's partials.
// Anything it cannot tell the type of and that reads a field by that
// name is reported as Unknown, so that a caller that acts on the answer
// errs on the side of the reads.
func (t *Theme) Reads(data, typ reflect.Type, field string) []Read {
	var reads []Read
	for _, layout := range slices.Sorted(maps.Keys(t.layouts)) {
		a := &analysis{theme: t, set: t.layouts[layout], typ: typ, field: field, layout: layout, done: map[visitKey]bool{}}
		a.template("base.html", value{typ: data, from: "", rooted: true})
		reads = append(reads, a.reads...)
	}
	return reads
}

// value is what the analysis knows of a value: its type (nil when not
// known) and, when it was reached from the page's data by fields alone,
// their chain.
type value struct {
	typ    reflect.Type
	from   string
	rooted bool
}

// unknown is a value whose type is not known.
var unknown = value{}

// visitKey is a template walked with a dot.
type visitKey struct {
	name string
	dot  value
}

// analysis follows one layout's templates.
type analysis struct {
	theme  *Theme
	set    *template.Template
	typ    reflect.Type
	field  string
	layout string
	done   map[visitKey]bool
	reads  []Read
}

// scope is where a template's walk is: its tree and variables.
type scope struct {
	tree *parse.Tree
	vars map[string]value
}

// template walks the template name with dot.
func (a *analysis) template(name string, dot value) {
	key := visitKey{name, dot}
	if a.done[key] {
		return
	}
	a.done[key] = true
	tmpl := a.set.Lookup(name)
	if tmpl == nil || tmpl.Tree == nil || tmpl.Tree.Root == nil {
		return
	}
	s := &scope{tree: tmpl.Tree, vars: map[string]value{"$": dot}}
	a.list(s, tmpl.Tree.Root, dot)
}

func (a *analysis) list(s *scope, l *parse.ListNode, dot value) {
	if l == nil {
		return
	}
	for _, n := range l.Nodes {
		a.node(s, n, dot)
	}
}

func (a *analysis) node(s *scope, n parse.Node, dot value) {
	switch n := n.(type) {
	case *parse.ActionNode:
		a.pipe(s, n.Pipe, dot)
	case *parse.IfNode:
		a.pipe(s, n.Pipe, dot)
		a.list(s, n.List, dot)
		a.list(s, n.ElseList, dot)
	case *parse.WithNode:
		v := a.pipe(s, n.Pipe, dot)
		a.list(s, n.List, v)
		a.list(s, n.ElseList, dot)
	case *parse.RangeNode:
		// a.pipe declares the variables with the whole value; a range
		// declares them with its keys and elements.
		v := a.pipe(s, n.Pipe, dot)
		key, elem := rangeTypes(v.typ)
		switch len(n.Pipe.Decl) {
		case 1:
			s.vars[n.Pipe.Decl[0].Ident[0]] = elem
		case 2:
			s.vars[n.Pipe.Decl[0].Ident[0]] = key
			s.vars[n.Pipe.Decl[1].Ident[0]] = elem
		}
		a.list(s, n.List, elem)
		a.list(s, n.ElseList, dot)
	case *parse.TemplateNode:
		arg := unknown
		if n.Pipe != nil {
			arg = a.pipe(s, n.Pipe, dot)
		}
		a.template(n.Name, arg)
	}
}

// rangeTypes returns what a range over a value of type t gives.
func rangeTypes(t reflect.Type) (key, elem value) {
	t = deref(t)
	if t == nil {
		return unknown, unknown
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return value{typ: reflect.TypeFor[int]()}, value{typ: t.Elem()}
	case reflect.Map:
		return value{typ: t.Key()}, value{typ: t.Elem()}
	case reflect.Chan:
		return value{typ: t.Elem()}, unknown
	case reflect.Int:
		return value{typ: t}, unknown
	}
	return unknown, unknown
}

// pipe walks a pipeline and returns its value; a declaration sets its
// variables to it.
func (a *analysis) pipe(s *scope, p *parse.PipeNode, dot value) value {
	if p == nil {
		return unknown
	}
	v := unknown
	for i, c := range p.Cmds {
		v = a.command(s, c, dot, i > 0, v)
	}
	for _, d := range p.Decl {
		s.vars[d.Ident[0]] = v
	}
	return v
}

// command walks a command and returns its value; piped, when set, is
// the previous command's value, passed as its last argument.
func (a *analysis) command(s *scope, c *parse.CommandNode, dot value, piped bool, prev value) value {
	if len(c.Args) == 0 {
		return unknown
	}
	id, isFunc := c.Args[0].(*parse.IdentifierNode)
	if !isFunc {
		return a.arg(s, c.Args[0], dot)
	}
	args := make([]value, 0, len(c.Args))
	for _, arg := range c.Args[1:] {
		args = append(args, a.arg(s, arg, dot))
	}
	if piped {
		args = append(args, prev)
	}
	switch id.Ident {
	case "partialCached":
		if len(c.Args) >= 2 {
			if name, ok := c.Args[1].(*parse.StringNode); ok && len(args) >= 2 {
				a.template(name.Text, args[1])
				return value{typ: reflect.TypeFor[template.HTML]()}
			}
		}
		// A partial whose name is not written out may be any: each is
		// walked with the data, as the layout's other templates.
		if len(args) >= 2 {
			for _, t := range a.set.Templates() {
				a.template(t.Name(), args[1])
			}
		}
		return unknown
	case "and", "or":
		if len(args) == 0 {
			return unknown
		}
		for _, v := range args[1:] {
			if v.typ != args[0].typ {
				return unknown
			}
		}
		return value{typ: args[0].typ}
	case "index":
		if len(args) == 0 {
			return unknown
		}
		v := args[0]
		for range args[1:] {
			_, v = rangeTypes(v.typ)
		}
		return value{typ: v.typ}
	case "slice":
		if len(args) == 0 {
			return unknown
		}
		return value{typ: args[0].typ}
	case "len":
		return value{typ: reflect.TypeFor[int]()}
	case "not", "eq", "ne", "lt", "le", "gt", "ge":
		return value{typ: reflect.TypeFor[bool]()}
	case "print", "printf", "println", "html", "js", "urlquery":
		return value{typ: reflect.TypeFor[string]()}
	}
	if t, ok := a.theme.funcTypes[id.Ident]; ok && t != nil {
		return value{typ: t}
	}
	return unknown
}

// arg returns the value of an argument, noting the reads on the way.
func (a *analysis) arg(s *scope, n parse.Node, dot value) value {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return a.fields(s, n.Position(), dot, n.Ident)
	case *parse.VariableNode:
		v, ok := s.vars[n.Ident[0]]
		if !ok {
			v = unknown
		}
		return a.fields(s, n.Position(), v, n.Ident[1:])
	case *parse.ChainNode:
		return a.fields(s, n.Position(), a.arg(s, n.Node, dot), n.Field)
	case *parse.PipeNode:
		return a.pipe(s, n, dot)
	case *parse.StringNode:
		return value{typ: reflect.TypeFor[string]()}
	case *parse.BoolNode:
		return value{typ: reflect.TypeFor[bool]()}
	case *parse.NumberNode:
		return value{typ: reflect.TypeFor[int]()}
	}
	return unknown
}

// fields follows a chain of fields from v, noting a read of the field
// asked about on the way.
func (a *analysis) fields(s *scope, pos parse.Pos, v value, idents []string) value {
	for _, id := range idents {
		t := deref(v.typ)
		if id == a.field && (t == nil || t.Kind() == reflect.Interface || t == a.typ) {
			r := Read{Layout: a.layout, File: a.theme.file(s.tree.ParseName), Line: lineOf(s.tree, pos), Unknown: t != a.typ}
			if v.rooted && !r.Unknown {
				r.From = v.from
			}
			a.reads = append(a.reads, r)
		}
		v = step(v, id)
	}
	return v
}

// step returns the value of the field or method id of v.
func step(v value, id string) value {
	t := v.typ
	if t == nil {
		return unknown
	}
	if m, ok := reflect.PointerTo(deref(t)).MethodByName(id); ok {
		if m.Type.NumOut() == 0 {
			return unknown
		}
		return value{typ: known(m.Type.Out(0))}
	}
	b := deref(t)
	switch b.Kind() {
	case reflect.Struct:
		f, ok := b.FieldByName(id)
		if !ok {
			return unknown
		}
		next := value{typ: known(f.Type)}
		if v.rooted && len(f.Index) == 1 {
			next.from, next.rooted = v.from+"."+id, true
		}
		return next
	case reflect.Map:
		if b.Key().Kind() == reflect.String {
			return value{typ: known(b.Elem())}
		}
	}
	return unknown
}

// deref returns t without its pointers.
func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// known returns t, or nil for an interface, whose dynamic type is not
// known.
func known(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Interface {
		return nil
	}
	return t
}

// file returns the project-relative path of the theme file named name.
func (t *Theme) file(name string) string {
	if f := t.files[name]; f != "" {
		return f
	}
	return "themes/" + t.Name + "/layouts/" + name
}

// lineOf returns the line of pos in tree, or 0.
func lineOf(tree *parse.Tree, pos parse.Pos) int {
	loc, _ := tree.ErrorContext(&parse.DotNode{Pos: pos})
	// loc is "name:line:column".
	loc = loc[:max(strings.LastIndexByte(loc, ':'), 0)]
	line, err := strconv.Atoi(loc[strings.LastIndexByte(loc, ':')+1:])
	if err != nil {
		return 0
	}
	return line
}
