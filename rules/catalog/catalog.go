// Package catalog is zonevet's one message catalogue: every text shown to a
// person is a message id with named arguments, looked up in go-i18n message
// files in zh-CN (the product's first language) and en. It sits below rules
// so every room — rules' upload problems, engine's errors and labels, the
// CLI's output and the web's pages — renders from the same files; the web
// adds its page wording (web/locales) to the same bundle.
package catalog

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Languages the product speaks: zh (zh-CN, the default) and en.
const (
	ZH = "zh"
	EN = "en"
)

// Args are a message's named arguments: {{.Name}} in the message text.
type Args = map[string]any

//go:embed locales/*.json
var files embed.FS

// Files are the embedded message files of rules and engine, for tests that
// check every id in code against them.
func Files() fs.FS { return files }

// Catalogue renders message ids in either language.
type Catalogue struct {
	localizers map[string]*i18n.Localizer
}

// New builds a catalogue from the embedded files plus every locales/*.json of
// each extra file system (the web's page wording). A file that does not parse
// fails start-up, never a page.
func New(extra ...fs.FS) (*Catalogue, error) {
	b := i18n.NewBundle(language.SimplifiedChinese)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	for _, fsys := range append([]fs.FS{files}, extra...) {
		if err := check(fsys); err != nil {
			return nil, err
		}
		names, err := fs.Glob(fsys, "locales/*.json")
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		for _, f := range names {
			if _, err := b.LoadMessageFileFS(fsys, f); err != nil {
				return nil, fmt.Errorf("catalog: %s: %w", f, err)
			}
		}
	}
	return &Catalogue{localizers: map[string]*i18n.Localizer{
		ZH: i18n.NewLocalizer(b, "zh-CN"),
		EN: i18n.NewLocalizer(b, "en"),
	}}, nil
}

// T renders id in lang ("en", anything else is zh-CN) with args. An unknown
// id shows as itself; TestCatalogueIDsExist keeps every id in code defined.
func (c *Catalogue) T(lang, id string, args Args) string {
	l := c.localizers[lang]
	if l == nil {
		l = c.localizers[ZH]
	}
	msg, err := l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: c.localArgs(lang, args)})
	if err != nil {
		return id
	}
	return msg
}

// localArgs renders the arguments that are messages themselves (a state) or
// names in both languages (a figure's label) in lang, so one message id serves both languages.
func (c *Catalogue) localArgs(lang string, args Args) Args {
	var out Args
	for k, v := range args {
		var text string
		switch x := v.(type) {
		case Message:
			text = c.T(lang, x.ID, x.Args)
		case Text:
			text = x.In(lang)
		case List:
			text = c.list(lang, x)
		default:
			continue
		}
		if out == nil {
			out = make(Args, len(args))
			for k, v := range args {
				out[k] = v
			}
		}
		out[k] = text
	}
	if out == nil {
		return args
	}
	return out
}

// list renders each item of l in lang and joins them with lang's separator.
func (c *Catalogue) list(lang string, l List) string {
	sep := l.SepZH
	if lang == EN {
		sep = l.SepEN
	}
	if sep == "" {
		sep = map[bool]string{true: ", ", false: "、"}[lang == EN]
	}
	parts := make([]string, len(l.Items))
	for i, it := range l.Items {
		switch x := it.(type) {
		case Message:
			parts[i] = c.T(lang, x.ID, x.Args)
		case Text:
			parts[i] = x.In(lang)
		case List:
			parts[i] = c.list(lang, x)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, sep)
}

// Has reports whether id is defined (in zh-CN, whose partner test keeps en equal).
func (c *Catalogue) Has(id string) bool {
	_, err := c.localizers[ZH].Localize(&i18n.LocalizeConfig{MessageID: id})
	return err == nil
}

var (
	defaultOnce sync.Once
	defaultCat  *Catalogue
)

// Default is the catalogue of the embedded files, for code without a web
// server: engine errors' Error(), the CLI. The files are embedded and checked
// by tests, so failing to load them is a build defect and panics.
func Default() *Catalogue {
	defaultOnce.Do(func() {
		c, err := New()
		if err != nil {
			panic(err)
		}
		defaultCat = c
	})
	return defaultCat
}

// T renders id with the default catalogue.
func T(lang, id string, args Args) string { return Default().T(lang, id, args) }
