// Package validation checks Nova request bodies and query strings the way nova-api does,
// and words each refusal as Nova does, to the character.
//
// Nova validates with the jsonschema library (draft 4) on the decoded Python value:
// keywords are checked in the order the schema lists them, the first failure wins, and
// the message quotes the value with Python's repr. So this package has three parts:
//
//   - value.go decodes JSON into ordered values (an Object keeps its keys' order), with
//     Nova's bounds on nesting and size;
//   - repr.go renders those values as Python's repr and str do;
//   - schema.go and formats.go are the keywords and format checkers Nova's schemas use,
//     and errors.go turns a failed keyword into Nova's 400 message for a body or a query.
//
// It knows nothing of HTTP handlers, Kubernetes or Kova's resources; the schemas
// themselves, one file per API area, are in package schemas.
package validation
