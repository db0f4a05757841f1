package novaserver

// NewLiveReader is the reading client nova-api's handler gets, for the suite's specs.
var NewLiveReader = newLiveReader
