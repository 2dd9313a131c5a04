package main

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed catalogue.tsv
var catalogueTSV string

// notApplicableTSV lists rows whose attack does not apply to kensa: "ID<TAB>why".
//
//go:embed notapplicable.tsv
var notApplicableTSV string

// Row is one row of the bad-input catalogue.
type Row struct {
	// ID is the series letter and the row's number, e.g. "T9".
	ID string
	// Input is the hostile input the row describes.
	Input string
	// Expected is the behaviour the catalogue asks for.
	Expected string
}

// Series is one series of the catalogue (G, E, P, …) with its rows in catalogue order.
type Series struct {
	Letter string
	Name   string
	Rows   []Row
}

// Catalogue is the whole catalogue in its order, with an index by ID.
type Catalogue struct {
	Series []Series
	// NotApplicable maps the rows whose attack does not apply to kensa to the reason.
	NotApplicable map[string]string
	byID          map[string]Row
}

// Has reports whether id is a row of the catalogue.
func (c *Catalogue) Has(id string) bool {
	_, ok := c.byID[id]
	return ok
}

// Row returns the row id, and whether it exists.
func (c *Catalogue) Row(id string) (Row, bool) {
	r, ok := c.byID[id]
	return r, ok
}

// Embedded returns the catalogue embedded in the command (catalogue.tsv).
func Embedded() (*Catalogue, error) {
	c, err := parseCatalogue(catalogueTSV)
	if err != nil {
		return nil, err
	}
	return c, c.readNotApplicable(notApplicableTSV)
}

// readNotApplicable reads "ID<TAB>why" lines into c.NotApplicable.
func (c *Catalogue) readNotApplicable(text string) error {
	c.NotApplicable = map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, why, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(why) == "" {
			return fmt.Errorf("notapplicable.tsv:%d: want ID<TAB>reason", i+1)
		}
		if !c.Has(id) {
			return fmt.Errorf("notapplicable.tsv:%d: %s is no row of the catalogue", i+1, id)
		}
		c.NotApplicable[id] = strings.TrimSpace(why)
	}
	return nil
}

// parseCatalogue reads the tab-separated catalogue: a line "LETTER<TAB>name" starts a
// series, a line "ID<TAB>input<TAB>expected" is a row of the current series.
func parseCatalogue(text string) (*Catalogue, error) {
	c := &Catalogue{byID: map[string]Row{}}
	for i, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		switch len(f) {
		case 2:
			if len(f[0]) != 1 || !isSeriesLetter(f[0][0]) {
				return nil, fmt.Errorf("catalogue line %d: %q is not a series letter", i+1, f[0])
			}
			for _, s := range c.Series {
				if s.Letter == f[0] {
					return nil, fmt.Errorf("catalogue line %d: series %s appears twice", i+1, f[0])
				}
			}
			c.Series = append(c.Series, Series{Letter: f[0], Name: f[1]})
		case 3:
			id, n := scanID(f[0], 0)
			if n != len(f[0]) {
				return nil, fmt.Errorf("catalogue line %d: %q is not a row ID", i+1, f[0])
			}
			if len(c.Series) == 0 || c.Series[len(c.Series)-1].Letter != id[:1] {
				return nil, fmt.Errorf("catalogue line %d: row %s is outside its series", i+1, id)
			}
			if _, dup := c.byID[id]; dup {
				return nil, fmt.Errorf("catalogue line %d: row %s appears twice", i+1, id)
			}
			r := Row{ID: id, Input: f[1], Expected: f[2]}
			c.byID[id] = r
			s := &c.Series[len(c.Series)-1]
			s.Rows = append(s.Rows, r)
		default:
			return nil, fmt.Errorf("catalogue line %d: %d tab-separated fields, want 2 (series) or 3 (row)", i+1, len(f))
		}
	}
	return c, nil
}
