// Copyright 2026 The Rounds Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package template

import (
	"io"
	"maps"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"
	"time"
)

// This file holds what the fork adds to text/template: the same
// execution, without the costs that dominate it when a site renders
// tens of thousands of pages from a few templates (see README.md).
//
//   - Functions are looked up in a copy of the function map published
//     when it changes, not under a read lock that every action of every
//     goroutine takes.
//   - Functions of the signatures templates call most, html/template's
//     escapers above all (one or more on every action), are called
//     directly rather than through reflect.Value.Call.
//   - The method or field a name picks in a type is looked up once per
//     type, not by a search of the type's methods and fields each time.
//   - A plain string is written as it is, without fmt.

// A funcEntry is a template function: its reflect.Value, and the
// function itself, for fastCall.
type funcEntry struct {
	value reflect.Value
	fn    any
}

// publishFuncs makes the current function map the one executions read.
// The caller holds t.muFuncs.
func (t *Template) publishFuncs() {
	m := make(map[string]funcEntry, len(t.execFuncs))
	for name, v := range t.execFuncs {
		e := funcEntry{value: v, fn: v.Interface()}
		if f, ok := e.fn.(func(...any) string); ok && strings.HasPrefix(name, "_html_template_") {
			// html/template's own, which it adds under names no other
			// function has.
			e.fn = escaper(f)
		}
		m[name] = e
	}
	t.funcs.Store(&m)
}

// An escaper is one of the functions html/template adds to actions to
// escape their values.
type escaper func(...any) string

// fastCall calls fun with args, as safeCall does. fn is fun itself, or
// nil for a method or a builtin; a function of one of the signatures
// below is called directly, any other through reflection.
func (s *state) fastCall(fn any, fun reflect.Value, args []reflect.Value) (val reflect.Value, err error) {
	if fn == nil {
		return safeCall(fun, args)
	}
	defer func() {
		if r := recover(); r != nil {
			val, err = reflect.Value{}, panicError(r)
		}
	}()
	// The arguments were checked against the function's parameter types
	// (evalCall), so a string parameter has a value of type string, and
	// a time.Time parameter one of type time.Time.
	switch f := fn.(type) {
	case escaper:
		r, err := s.escape(f, args)
		return reflect.ValueOf(r), err
	case func(...any) string:
		a := make([]any, len(args))
		for i, v := range args {
			a[i] = v.Interface()
		}
		return reflect.ValueOf(f(a...)), nil
	case func(string) string:
		return reflect.ValueOf(f(args[0].String())), nil
	case func(string) (string, error):
		r, err := f(args[0].String())
		return reflect.ValueOf(r), err
	case func(time.Time) string:
		return reflect.ValueOf(f(timeOf(args[0]))), nil
	case func(string, time.Time) string:
		return reflect.ValueOf(f(args[0].String(), timeOf(args[1]))), nil
	case func(string, any) (any, error):
		r, err := f(args[0].String(), args[1].Interface())
		// As reflect.Value.Call returns it: a value of the interface type.
		return reflect.ValueOf(&r).Elem(), err
	}
	return safeCall(fun, args)
}

// escape calls the escaper f with args. The arguments go in a slice the
// state keeps: an escaper does not keep it, nor run this execution
// again.
func (s *state) escape(f escaper, args []reflect.Value) (r string, err error) {
	defer func() {
		if e := recover(); e != nil {
			err = panicError(e)
		}
	}()
	a := s.args[:0]
	for _, v := range args {
		a = append(a, v.Interface())
	}
	r = f(a...)
	clear(a)
	s.args = a[:0]
	return r, nil
}

// printEscaped evaluates and prints the pipeline of an action that ends
// in an escaper, as html/template leaves every action that prints, the
// way evalPipeline and printValue would, but for writing the escaper's
// string as it is rather than boxed in a reflect.Value. It reports
// false, having done nothing, for any other action.
func (s *state) printEscaped(dot reflect.Value, node *parse.ActionNode) bool {
	pipe := node.Pipe
	n := len(pipe.Cmds)
	if len(pipe.Decl) != 0 || n < 2 || len(pipe.Cmds[n-1].Args) != 1 {
		return false
	}
	last := pipe.Cmds[n-1]
	id, ok := last.Args[0].(*parse.IdentifierNode)
	if !ok {
		return false
	}
	_, fn, _, _ := findFunction(id.Ident, s.tmpl)
	f, ok := fn.(escaper)
	if !ok {
		return false
	}
	s.at(pipe)
	value := s.evalCommands(dot, pipe.Cmds[:n-1])
	// The escaper's one argument, checked as evalCall checks it.
	s.at(id)
	arg := s.validateType(value, anyType)
	r, err := s.escape(f, []reflect.Value{arg})
	if err != nil {
		s.at(last)
		s.errorf("error calling %s: %w", id.Ident, err)
	}
	s.at(node)
	if _, err := io.WriteString(s.wr, r); err != nil {
		s.writeError(err)
	}
	return true
}

var anyType = reflect.TypeFor[any]()

// timeOf returns the time.Time v holds, without copying it to the heap
// as v.Interface() does when v is addressable.
func timeOf(v reflect.Value) time.Time {
	if v.CanAddr() {
		return *v.Addr().Interface().(*time.Time)
	}
	return v.Interface().(time.Time)
}

// A memberKey names a method or field of a type.
type memberKey struct {
	typ  reflect.Type
	name string
}

// A member is what a name picks in a type: a method, by its index, or
// else a field of the struct the type is or points to.
type member struct {
	method int // -1 if none
	field  *reflect.StructField
}

// members caches lookupMember's answers. It is read far more often than
// written: readers load the map, writers replace it with a larger copy.
var members struct {
	mu sync.Mutex
	m  atomic.Pointer[map[memberKey]member]
}

// lookupMember returns what name picks in typ: typ.MethodByName(name),
// as Value.MethodByName finds it, and the field of that name of the
// struct typ is or points to. Each is looked up once per type.
func lookupMember(typ reflect.Type, name string) member {
	key := memberKey{typ, name}
	if m := members.m.Load(); m != nil {
		if mem, ok := (*m)[key]; ok {
			return mem
		}
	}
	mem := member{method: -1}
	if m, ok := typ.MethodByName(name); ok {
		mem.method = m.Index
	}
	st := typ
	if st.Kind() == reflect.Pointer {
		st = st.Elem()
	}
	if st.Kind() == reflect.Struct {
		if f, ok := st.FieldByName(name); ok {
			mem.field = &f
		}
	}
	members.mu.Lock()
	defer members.mu.Unlock()
	old := members.m.Load()
	next := make(map[memberKey]member, 1)
	if old != nil {
		next = make(map[memberKey]member, len(*old)+1)
		maps.Copy(next, *old)
	}
	next[key] = mem
	members.m.Store(&next)
	return mem
}
