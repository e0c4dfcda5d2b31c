package mongoauth

// AssumeAtomicUpdates makes a behave as on MongoDB, where conditional
// updates are atomic, whatever the server: tests use it to see the command
// ReplaceKeyPassword sends there while running against FerretDB.
func AssumeAtomicUpdates(a *Adapter) { a.atomicUpdates = true }
