package web

import "github.com/gin-gonic/gin"

// This file is being written: its handlers are placeholders until the page lands.
func (s *Server) registerPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) syncRegister(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
