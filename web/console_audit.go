package web

import "github.com/gin-gonic/gin"

// This file is being written: its handlers are placeholders until the page lands.
func (s *Server) auditPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) auditCSV(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) auditJSON(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) auditVerifyPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) auditEventPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) auditVerify(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
