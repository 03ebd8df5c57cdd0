// Package deps has no code of its own: its test checks which packages each binary links.
package deps
