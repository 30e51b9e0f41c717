package fsm

// CompiledOf is a [Def] validated and indexed once, from which machines
// are made without compiling the definition again: what a program that
// runs one short machine per request or per subscription builds at package
// level. It never changes and is safe for concurrent use.
type CompiledOf[S, E comparable] struct {
	c *chart[S, E]
}

// Compile validates def and returns it compiled. It fails as [NewOf] does
// on an invalid definition, with the [*DefError] values [Def.Validate]
// reports.
func Compile[S, E comparable](def Def[S, E]) (*CompiledOf[S, E], error) {
	c, err := compile(def)
	if err != nil {
		return nil, err
	}
	return &CompiledOf[S, E]{c: c}, nil
}

// New returns a machine of the compiled definition, in its initial state,
// as [NewOf] does but without validating the definition again. It fails
// only on an option for other types (ErrBadOption).
func (d *CompiledOf[S, E]) New(opts ...Option) (*MachineOf[S, E], error) {
	return newMachine(d.c, opts)
}

// Diagram draws the compiled definition's transition table, as
// [Def.Diagram] does.
func (d *CompiledOf[S, E]) Diagram(f Format) (string, error) { return d.c.diagram(f) }

// TraceMermaid draws a recorded slice of transitions of a machine of this
// definition, as [MachineOf.TraceMermaid] does, without a machine.
func (d *CompiledOf[S, E]) TraceMermaid(trace []TransitionOf[S, E]) string {
	return d.c.traceMermaid(trace)
}

// TraceDOT draws a recorded slice of transitions as [MachineOf.TraceDOT]
// does, without a machine.
func (d *CompiledOf[S, E]) TraceDOT(trace []TransitionOf[S, E]) string { return d.c.traceDOT(trace) }
