package web

import "github.com/gin-gonic/gin"

// This file is being written: its handlers are placeholders until the page lands.
func (s *Server) usersPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) createUser(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) updateUser(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) resetUserPassword(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) accountPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
