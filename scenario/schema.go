package scenario

import _ "embed"

//go:embed schema.json
var schema []byte

// Schema returns a JSON Schema (draft 2020-12) of the scenario file format,
// for editors such as yaml-language-server. The loader is the authority: it
// also checks references, Regions of keys and the operations each key can
// perform, which the schema cannot express.
func Schema() []byte { return append([]byte(nil), schema...) }
