// Package pb is the generated Go code of msync.proto, the vendor Web
// SDK's msync schema (package easemob.pb). Do not edit msync.pb.go:
// change msync.proto and run go generate.
package pb

//go:generate protoc --go_out=. --go_opt=paths=source_relative msync.proto
