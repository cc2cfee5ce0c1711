// Command go-reader times Go's own trace reader on a trace, for goroscope's comparison
// benchmark (scripts/bench-vs-go.sh). It is built against a copy of the reference
// toolchain's internal/trace made at run time; that copy is never committed.
//
//	go-reader events TRACE    read every event, in order
//	go-reader summary TRACE   read every event and feed it to Go's Summarizer
//
// It prints one line: the mode, the number of events and the elapsed seconds.
package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"goreader/internal/trace"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "events" && os.Args[1] != "summary") {
		fmt.Fprintln(os.Stderr, "usage: go-reader events|summary TRACE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	start := time.Now()
	r, err := trace.NewReader(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var s *trace.Summarizer
	if os.Args[1] == "summary" {
		s = trace.NewSummarizer()
	}
	n := 0
	for {
		ev, err := r.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n++
		if s != nil {
			s.Event(&ev)
		}
	}
	if s != nil {
		s.Finalize()
	}
	fmt.Printf("%s %d events %.3f s\n", os.Args[1], n, time.Since(start).Seconds())
}
