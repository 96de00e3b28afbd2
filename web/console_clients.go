package web

import "github.com/gin-gonic/gin"

// This file is being written: its handlers are placeholders until the page lands.
func (s *Server) clientsPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) clientsCSV(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) clientPage(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) revokeClient(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) restoreClient(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) refreshClientKeys(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) blockSoftware(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
func (s *Server) unblockSoftware(c *gin.Context) {
	s.consoleError(c, 501, "Not yet", "This page is being built.")
}
